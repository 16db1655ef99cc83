import { policerSpecProblem, type PolicerSpec } from '../datapath/token-bucket.js';
import { DEFAULT_OVERLAY_MTU } from '@dvs/wire';
import type { AttachedFrameDevice, FrameDevice, LinkInfo, LinkMonitor } from '@dvs/netdev';
import type { AgentDevices } from '../agent-devices.js';
import { formatPortMapping } from '../config/port-mapping-text.js';
import type { DatapathOperations } from '../dpif/provider.js';
import type { DataPathEvents } from '../datapath/control-surface.js';
import type { TrafficCounters } from '../datapath/counters.js';
import type { Logger } from '../observe/logger.js';
import { ManagedPort, type AgentPortView, type PortOrigin, type PortRequest } from './managed-port.js';
import { AgentError } from '../agent-error.js';
import { openLinkDevice } from './link-device.js';
import { openPortDevice } from './port-device.js';
import { SegmentingPortDevice } from '../datapath/segmenting-port-device.js';
import { checkPortMtu, overlayMtuOf } from './port-mtu.js';
import { StateFileWriter, readStateFile } from './state-file.js';

export interface AgentPortsOptions {
  host: string;
  /** The agent's VTEP address: the device holding it (the tunnel underlay) is never attached. */
  vtepAddress: string;
  dataPath: DatapathOperations;
  devices: AgentDevices;
  logger: Logger;
  /** Open TAP ports with offloads and coalesce toward TAP and attached ports (config `offloads`); default false. */
  tapOffloads?: boolean;
  /** Where run-time ports are kept (state-file.ts); null: not kept. */
  stateFile: string | null;
  /** The config's static FDB entries on a port, added whenever its device is (again) in the data path. */
  staticEntries(port: string): { vni: number; mac: number }[];
  /** How long a created TAP waits for its network to arrive (etcd) before it takes the default MTU. */
  networkWaitMs(): number;
  /** Ports, their state or their kind changed (the etcd sync republishes them). */
  changed(): void;
  now?: () => number;
}

/** How a device is being opened: asked for at run time, at start (config or state file), or back after it was gone. */
type Phase = 'add' | 'start' | 'back';

/**
 * The agent's ports and their devices' life cycle. A port is configured
 * (config file, state file, `ports/add`) whether or not its device is there:
 *
 *   device there ── deleted (link:del, or the data path cannot read it) ──► gone
 *      ▲                                                                    │
 *      └──────────── a device of the port's name appears (link:new) ◄────────┘
 *
 * Gone: the port leaves the data path (its local MACs are withdrawn as for a
 * removed port, its fd is closed), one log line, `deviceGone` counted; the
 * port stays configured. Back: opened again by the same plug (attach,
 * adopt, create), one log line, `reattached` counted. Attached ports also
 * follow their device's up/down and MTU (link:up, link:down, link:change).
 *
 * One link monitor per agent, in the agent's network namespace (where the
 * devices are). TAP ports ignore link:del: a TAP the lab moved into a VM's
 * namespace disappears from ours but lives on; a TAP really deleted is seen
 * by the data path (its read fails: `port:gone`).
 *
 * Run-time ports the agent can get back (attach, adopt, and created TAPs
 * that are persistent) are kept in the state file, written before
 * `ports/add` and `ports/del` answer; config ports come from the config file.
 */
export class AgentPorts {
  private readonly ports = new Map<string, ManagedPort>();
  /** Names being opened by ports/add (two adds of one name never race). */
  private readonly reserved = new Set<string>();
  private monitor: LinkMonitor | null = null;
  private closed = false;
  private readonly stateFile: StateFileWriter | null;
  private readonly now: () => number;
  private readonly onPortGone = (e: DataPathEvents['port:gone']): void => {
    const port = this.ports.get(e.port);
    if (port === undefined) return;
    port.failed = true;
    this.schedule(port, e.code === 'DVS_DEVICE_GONE' ? 'device deleted' : `device failed: ${e.message}`);
  };

  private offloadsReported = false;

  constructor(private readonly o: AgentPortsOptions) {
    this.now = o.now ?? Date.now;
    this.stateFile = o.stateFile === null ? null : new StateFileWriter(o.stateFile, o.host, o.logger, this.now);
  }

  /** State file writes that failed. */
  get stateFileErrors(): number {
    return this.stateFile?.errors ?? 0;
  }

  /** Follows link events and the data path's `port:gone` (once, before the first port). */
  watch(): void {
    this.o.dataPath.on('port:gone', this.onPortGone);
    try {
      this.monitor = this.o.devices.openLinkMonitor();
    } catch (err) {
      this.o.logger.warn('no link monitor: ports whose device goes away are not attached again by themselves', {
        error: (err as Error).message,
      });
      return;
    }
    const m = this.monitor;
    m.on('link:del', (link) => {
      for (const port of this.ports.values()) if (port.ifindex === link.ifindex) this.schedule(port, 'device deleted');
    });
    m.on('link:new', (link) => {
      const port = this.ports.get(link.name);
      if (port !== undefined && port.device === null) this.schedule(port, 'a device of its name appeared');
    });
    const refresh = (link: LinkInfo): void => {
      for (const port of this.ports.values()) if (port.ifindex === link.ifindex) this.refreshState(port, link);
    };
    m.on('link:up', refresh);
    m.on('link:down', refresh);
    m.on('link:change', (link, previous) => {
      if (link.mtu === previous.mtu) return;
      for (const port of this.ports.values()) if (port.ifindex === link.ifindex) this.checkMtu(port, link.mtu);
    });
    m.on('monitor:resync', () => {
      for (const port of this.ports.values()) this.schedule(port, 'link table read again');
    });
  }

  has(name: string): boolean {
    return this.ports.has(name);
  }

  views(): AgentPortView[] {
    const live = new Map(this.o.dataPath.portViews().map((v) => [v.name, v]));
    return [...this.ports.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => p.view(p.device === null ? undefined : live.get(p.name)));
  }

  /** Counters of the ports not in the data path now (their device gone), by name. */
  idleCounters(): Record<string, TrafficCounters> {
    const out: Record<string, TrafficCounters> = {};
    for (const p of this.ports.values()) if (p.device === null) out[p.name] = { ...p.counters };
    return out;
  }

  /** A config port at start. Throws AgentError when it cannot be opened; a device not there yet (adopt, attach) waits instead. */
  async addConfigPort(request: PortRequest): Promise<void> {
    await this.addAtStart(request, 'config');
  }

  /**
   * Restores the run-time ports of the state file, after the config's ports
   * (a name in the config is the config's: its state-file entry is dropped).
   * A port that cannot be restored is logged and dropped; a corrupt file is
   * moved aside with one log line. Never throws.
   */
  async restoreState(): Promise<void> {
    const path = this.o.stateFile;
    if (path === null) return;
    const read = await readStateFile(path, this.now);
    if (read.status === 'missing') return;
    if (read.status === 'unreadable') {
      this.o.logger.error("cannot read the state file: starting with the config's ports only", {
        file: path,
        error: read.problem,
      });
      return;
    }
    if (read.status === 'corrupt') {
      this.o.logger.error("the state file is corrupt: starting with the config's ports; the bad file is kept", {
        file: path,
        problem: read.problem,
        keptAs: read.movedTo,
      });
      await this.saveState();
      return;
    }
    let dropped = 0;
    let restored = 0;
    for (const request of read.ports) {
      if (this.ports.has(request.name)) {
        this.o.logger.info("a state file port is also in the config: the config's settings apply", {
          port: request.name,
        });
        dropped++;
        continue;
      }
      try {
        await this.addAtStart(request, 'runtime');
        restored++;
      } catch (err) {
        this.o.logger.error('a port of the state file cannot be restored: dropped', {
          port: request.name,
          code: (err as { code?: string }).code ?? 'DVS_IO',
          error: (err as Error).message,
        });
        dropped++;
      }
    }
    this.o.logger.info('ports restored from the state file', { file: path, ports: restored, dropped });
    if (dropped > 0) await this.saveState();
  }

  /**
   * ports/add: opens the device and plugs the port in, or throws AgentError
   * and changes nothing. The same port asked for again (same mapping, plug
   * and persistence: QEMU's hook when a VM starts again after a crash, with
   * no ports/del between) is no error: nothing changes, its device is taken
   * in now if it is back, and its view answers. Another port of that name is
   * DVS_CONFLICT.
   */
  async add(request: PortRequest): Promise<AgentPortView> {
    const { name, plug } = request;
    const existing = this.ports.get(name);
    if (existing !== undefined) {
      if (!sameRequest(existing.request, request))
        throw new AgentError(
          'DVS_CONFLICT',
          `port ${name} already exists (${formatPortMapping(existing.request.mapping)}, plug ${existing.request.plug}${existing.request.persistent ? ', persistent' : ''}): ports/del it first to change it`,
        );
      if (existing.device === null) {
        this.schedule(existing, 'asked for again');
        await existing.work;
      }
      return existing.view(this.o.dataPath.portViews().find((v) => v.name === name));
    }
    if (this.reserved.has(name))
      throw new AgentError('DVS_CONFLICT', `port ${name} is being added right now: ports/show lists it`);
    this.reserved.add(name);
    try {
      const link = this.describe(name);
      if (plug === 'create' && link !== undefined)
        throw new AgentError(
          'DVS_CONFLICT',
          `a device named ${name} already exists (kind ${link.kind}): attach it (plug attach: a TAP that QEMU holds, a veth end, a macvlan, a NIC), adopt it if it is a TAP nobody holds (plug adopt), or pick another name`,
        );
      if (plug === 'adopt' && link === undefined)
        throw new AgentError(
          'DVS_NOT_FOUND',
          `no TAP named ${name} to adopt: create it first (ip tuntap add ${name} mode tap) or let the agent create it (plug create)`,
        );
      const port = new ManagedPort(request, 'runtime', this.now());
      await this.open(port, 'add');
      this.ports.set(name, port);
    } finally {
      this.reserved.delete(name);
    }
    const port = this.ports.get(name) as ManagedPort;
    if (keptInStateFile(port)) await this.saveState();
    this.o.logger.info('port added', this.describePort(port));
    this.o.changed();
    return this.views().find((v) => v.name === name) as AgentPortView;
  }

  /** ports/del: unplugs the port, closes its device (a created TAP goes, persistent or not). */
  async remove(name: string): Promise<void> {
    const port = this.ports.get(name);
    if (port === undefined) throw new AgentError('DVS_NOT_FOUND', `no port ${name}; ports/show lists them`);
    this.ports.delete(name);
    port.removed = true;
    await port.work;
    if (port.device !== null) {
      closeQuietly(this.o.dataPath.removePort(name));
      port.device = null;
    }
    if (port.request.plug === 'create' && port.request.persistent) await this.deletePersistentTap(name);
    if (keptInStateFile(port)) await this.saveState();
    this.o.logger.info(
      port.request.plug === 'create' ? 'port removed, TAP deleted' : `port removed, ${leftInPlace(port)} left in place`,
      { port: name },
    );
    this.o.changed();
  }

  /** Checks every port's device MTU against its networks' overlay MTU again (a network's MTU changed). */
  /**
   * Sets (null: removes) a port's policer for one direction, on its
   * data-path port now if its device is there, and for every later attach.
   * Throws AgentError DVS_NOT_FOUND, or the data path's DVS_BAD_ARGUMENT
   * naming the field; nothing changes then.
   */
  setQos(name: string, direction: 'ingress' | 'egress', spec: PolicerSpec | null): void {
    const port = this.ports.get(name);
    if (port === undefined) throw new AgentError('DVS_NOT_FOUND', `no port ${name}; ports/show lists them`);
    const problem = spec === null ? null : policerSpecProblem(spec);
    if (problem !== null) throw new AgentError('DVS_BAD_ARGUMENT', `port ${name}: ${direction} ${problem}`);
    if (this.o.dataPath.hasPort(name)) this.o.dataPath.setPortPolicer(name, direction, spec);
    port.qos = { ...port.qos, [direction]: spec };
  }

  recheckMtus(): void {
    for (const port of this.ports.values()) this.checkMtu(port);
  }

  /** Stops following links and closes every device (created non-persistent TAPs disappear with it). */
  close(): void {
    this.closed = true;
    this.o.dataPath.off('port:gone', this.onPortGone);
    this.monitor?.close();
    this.monitor = null;
    for (const port of this.ports.values()) {
      if (port.device === null) continue;
      closeQuietly(port.device);
      port.device = null;
      this.o.logger.info(
        port.request.plug === 'create' && !port.request.persistent
          ? 'port closed, TAP deleted'
          : `port closed, ${leftInPlace(port)} left in place`,
        { port: port.name },
      );
    }
  }

  /** How many ports have a device now. */
  get openCount(): number {
    return [...this.ports.values()].filter((p) => p.device !== null).length;
  }

  // ---- internals -------------------------------------------------------------

  private async addAtStart(request: PortRequest, origin: PortOrigin): Promise<void> {
    const { name, plug } = request;
    if (this.ports.has(name)) throw new AgentError('DVS_CONFLICT', `port ${name} is listed twice`);
    const port = new ManagedPort(request, origin, this.now());
    const link = this.describe(name);
    if (plug === 'create' && link !== undefined && !(request.persistent && link.kind === 'tap'))
      throw new AgentError(
        'DVS_CONFLICT',
        `a device named ${name} already exists (kind ${link.kind}): use plug adopt or attach for it, or pick another name`,
      );
    if (plug !== 'create' && link === undefined) {
      port.setState('gone', this.now(), `no device ${name} in this network namespace yet`);
      this.ports.set(name, port);
      this.o.logger.warn('no device for the port yet: it waits for one of its name', this.describePort(port));
      return;
    }
    await this.open(port, 'start');
    this.ports.set(name, port);
  }

  /** Opens the port's device and puts the port in the data path; throws AgentError and leaves nothing open. */
  private async open(port: ManagedPort, phase: Phase): Promise<void> {
    const name = port.name;
    // The provider of the port's network says whether it reads frames or takes the device itself.
    let use: ReturnType<DatapathOperations['portDeviceUse']>;
    try {
      use = this.o.dataPath.portDeviceUse(port.spec());
    } catch (err) {
      throw new AgentError((err as { code?: string }).code ?? 'DVS_BAD_ARGUMENT', (err as Error).message);
    }
    const opener = use === 'link' ? openLinkDevice : openPortDevice;
    const opened = await opener(port.request, this.o.devices, this.o.vtepAddress, () => this.tapMtu(port, phase), {
      offloads: this.o.tapOffloads === true,
    });
    const device = opened.device;
    this.reportOffloads(device);
    if (this.closed || port.removed) {
      closeQuietly(device);
      throw new AgentError('DVS_AGENT_STATE', `port ${name} was removed while its device was being opened`);
    }
    try {
      this.o.dataPath.addPort(port.spec(), device, port.counters);
      if (port.qos.ingress !== null) this.o.dataPath.setPortPolicer(name, 'ingress', port.qos.ingress);
      if (port.qos.egress !== null) this.o.dataPath.setPortPolicer(name, 'egress', port.qos.egress);
      for (const e of this.o.staticEntries(name)) this.o.dataPath.addStaticLocal(e.vni, e.mac, name);
    } catch (err) {
      if (this.o.dataPath.hasPort(name)) this.o.dataPath.removePort(name);
      closeQuietly(device);
      throw err;
    }
    port.device = device;
    port.ifindex = opened.ifindex;
    port.deviceKind = opened.deviceKind;
    port.failed = false;
    port.lastOpenError = null;
    port.setState(this.linkState(port), this.now(), null);
    this.checkMtu(port);
  }

  /** Queues a look at the port: is its device gone, is a device of its name back? One at a time per port. */
  private schedule(port: ManagedPort, why: string): void {
    port.work = port.work
      .then(() => this.settle(port, why))
      .catch((err: unknown) =>
        this.o.logger.error('port life cycle step failed', { port: port.name, error: (err as Error).message }),
      );
  }

  private async settle(port: ManagedPort, why: string): Promise<void> {
    if (this.closed || port.removed) return;
    if (port.device !== null) {
      if (!this.deviceGone(port)) {
        this.refreshState(port);
        return;
      }
      this.detach(port, why);
    }
    // Asked afresh: the monitor's table may still hold a link whose deletion it has not reported yet.
    if (this.describe(port.name) === undefined) return;
    try {
      await this.open(port, 'back');
    } catch (err) {
      if (this.closed || port.removed) return;
      const message = (err as Error).message;
      port.detail = message;
      if (message !== port.lastOpenError) {
        port.lastOpenError = message;
        this.o.logger.warn('a device of the port name is there but cannot be opened: the port stays gone', {
          port: port.name,
          code: (err as { code?: string }).code ?? 'DVS_IO',
          error: message,
        });
      }
      return;
    }
    port.reattached++;
    this.o.logger.info('port device back: attached again', this.describePort(port));
    this.o.changed();
  }

  private deviceGone(port: ManagedPort): boolean {
    if (port.failed) return true;
    const device = port.device as FrameDevice & Partial<Pick<AttachedFrameDevice, 'gone'>>;
    return device.gone === true;
  }

  /** The device is gone: the port leaves the data path (its MACs withdrawn), its fd is closed; it stays configured. */
  private detach(port: ManagedPort, why: string): void {
    if (this.o.dataPath.hasPort(port.name)) closeQuietly(this.o.dataPath.removePort(port.name));
    else closeQuietly(port.device as FrameDevice);
    port.device = null;
    port.ifindex = null;
    port.failed = false;
    port.deviceGone++;
    port.setState('gone', this.now(), why);
    this.o.logger.warn('port device gone: port down, its MACs withdrawn, waiting for the device to come back', {
      ...this.describePort(port),
      reason: why,
    });
    this.o.changed();
  }

  /** up/down of an attached port from its link (TAP ports are up while their fd works). */
  private refreshState(port: ManagedPort, link?: LinkInfo): void {
    if (port.device === null) return;
    const state = this.linkState(port, link);
    if (!port.setState(state, this.now(), state === 'down' ? 'device is down (admin down or no carrier)' : null))
      return;
    this.o.logger.info(state === 'up' ? 'port device up' : 'port device down', { port: port.name });
    this.o.changed();
  }

  private linkState(port: ManagedPort, link?: LinkInfo): 'up' | 'down' {
    if (port.request.plug !== 'attach') return 'up';
    const now = link ?? this.linkNamed(port.name);
    return now === undefined || now.up ? 'up' : 'down';
  }

  /** Warns (once per change) while the device's MTU is larger than the overlay MTU of its networks. */
  private checkMtu(port: ManagedPort, deviceMtu?: number): void {
    if (port.device === null) return;
    checkPortMtu(port, deviceMtu ?? port.device.mtu, this.overlayMtu(port), this.o.logger);
  }

  private overlayMtu(port: ManagedPort): number | undefined {
    return overlayMtuOf(this.o.dataPath.networkViews(), port.vnis());
  }

  /**
   * The MTU a created TAP gets: its networks' overlay MTU. With etcd the
   * network may not be synced yet right after start: wait for it a little
   * (a TAP's MTU cannot follow later once a VM holds it). Unknown after
   * that: the default, with a warning.
   */
  /**
   * The first port (TAP, or attached device's PACKET_VNET_HDR) whose kernel
   * refused an offload says so, once; the port runs with what was taken.
   */
  private reportOffloads(device: FrameDevice): void {
    if (this.offloadsReported) return;
    const offloads = device instanceof SegmentingPortDevice ? device.tapOffloads : device.offloads;
    if (offloads === undefined || offloads.refused.length === 0) return;
    const { enabled, refused } = offloads;
    this.offloadsReported = true;
    this.o.logger.warn('the kernel refused some port offloads: ports run with the ones it took', {
      port: device.name,
      enabled: enabled.join(','),
      refused: refused.map((r) => `${r.offload}: ${r.reason}`).join('; '),
    });
  }

  private async tapMtu(port: ManagedPort, phase: Phase): Promise<number> {
    let mtu = this.overlayMtu(port);
    const deadline = this.now() + (phase === 'start' ? 0 : this.o.networkWaitMs());
    while (mtu === undefined && this.now() < deadline && !this.closed) {
      await new Promise((r) => setTimeout(r, 50));
      mtu = this.overlayMtu(port);
    }
    if (mtu !== undefined) return mtu;
    this.o.logger.warn('no network known for the port yet: using the default overlay MTU', {
      port: port.name,
      mtu: DEFAULT_OVERLAY_MTU,
    });
    return DEFAULT_OVERLAY_MTU;
  }

  private async deletePersistentTap(name: string): Promise<void> {
    if (this.describe(name) === undefined) return;
    try {
      closeQuietly(await this.o.devices.openTap({ name, persistent: false, up: false }));
    } catch (err) {
      this.o.logger.warn('cannot delete the persistent TAP of a removed port', {
        port: name,
        error: (err as Error).message,
      });
    }
  }

  /** Writes the kept run-time ports (never throws: see StateFileWriter). */
  private saveState(): Promise<void> {
    return (
      this.stateFile?.save(() => [...this.ports.values()].filter(keptInStateFile).map((p) => p.request)) ??
      Promise.resolve()
    );
  }

  /** The link of that name now: rtnetlink asked directly (fresh, for decisions on request). */
  private describe(name: string): LinkInfo | undefined {
    try {
      const link = this.o.devices.describeLink(name);
      return link.exists ? link : undefined;
    } catch {
      return undefined;
    }
  }

  /** The link of that name as the monitor last saw it (or asked directly without a monitor). */
  private linkNamed(name: string): LinkInfo | undefined {
    return this.monitor !== null ? this.monitor.get(name) : this.describe(name);
  }

  private describePort(port: ManagedPort): Record<string, string | number | null> {
    return {
      port: port.name,
      mapping: formatPortMapping(port.request.mapping),
      kind: port.kind,
      device: port.deviceKind,
      ifindex: port.ifindex,
      state: port.state,
      mtu: port.lastMtu,
    };
  }
}

function sameRequest(a: PortRequest, b: PortRequest): boolean {
  return (
    a.plug === b.plug &&
    a.persistent === b.persistent &&
    formatPortMapping(a.mapping) === formatPortMapping(b.mapping) &&
    JSON.stringify(a.security ?? {}) === JSON.stringify(b.security ?? {})
  );
}

/** Run-time ports the agent can get back after a restart: attached and adopted devices, persistent created TAPs. */
function keptInStateFile(port: ManagedPort): boolean {
  return port.origin === 'runtime' && (port.request.plug !== 'create' || port.request.persistent);
}

function leftInPlace(port: ManagedPort): string {
  return port.request.plug === 'attach'
    ? 'attached device'
    : port.request.plug === 'adopt'
      ? 'adopted TAP'
      : 'persistent TAP';
}

function closeQuietly(device: { close(): void }): void {
  try {
    device.close();
  } catch {
    // Closing twice or a vanished device: nothing left to release.
  }
}
