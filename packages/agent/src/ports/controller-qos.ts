/**
 * The controller's port QoS (`limits/<host>/<port>`) on this host's ports.
 * The policers of a port the controller names are put on it as soon as the
 * port exists (now, or when it is added later), and taken off when the
 * controller drops them; a port is touched only when what the controller
 * says for it changed, so its bucket and `policed` count are not reset by
 * unrelated updates.
 */
import type { PortQos } from '@dvs/wire';

export interface QosTarget {
  hasPort(name: string): boolean;
  /** Throws a coded error (a bad policer: the controller checks the same rule, so not expected). */
  setPortQos(name: string, direction: 'ingress' | 'egress', spec: PortQos['ingress']): void;
}

export class ControllerQos {
  private wanted = new Map<string, PortQos>();
  /** What was put on each port, as JSON. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly target: QosTarget,
    private readonly warn: (message: string, port: string) => void,
  ) {}

  /** This host's port QoS as the controller has it now (port name → policers). */
  set(wanted: ReadonlyMap<string, PortQos>): void {
    for (const port of this.applied.keys()) {
      if (wanted.has(port)) continue;
      this.put(port, { ingress: null, egress: null });
      this.applied.delete(port);
    }
    this.wanted = new Map(wanted);
    this.portsChanged();
  }

  /** Ports came or went: the policers of those now present are put on them. */
  portsChanged(): void {
    for (const [port, qos] of this.wanted) {
      const text = JSON.stringify(qos);
      if (!this.target.hasPort(port)) {
        this.applied.delete(port);
        continue;
      }
      if (this.applied.get(port) === text) continue;
      if (this.put(port, qos)) this.applied.set(port, text);
    }
  }

  private put(port: string, qos: PortQos): boolean {
    if (!this.target.hasPort(port)) return false;
    try {
      this.target.setPortQos(port, 'ingress', qos.ingress);
      this.target.setPortQos(port, 'egress', qos.egress);
      return true;
    } catch (err) {
      this.warn((err as Error).message, port);
      return false;
    }
  }
}
