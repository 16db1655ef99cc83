/**
 * An agent's etcd footprint without a data path: host, port and MAC report
 * records on its own lease, as dvs-agent writes them. Lets controller tests
 * drive reports, moves and lease expiry precisely.
 */
import { encodeHost, encodePort, encodeReport, KeyLayout, type HostRecord } from '@dvs/wire';
import { Etcd3, type Lease } from 'etcd3';

export class FakeAgent {
  readonly client: Etcd3;
  readonly keys: KeyLayout;
  private lease: Lease;

  constructor(
    endpoint: string,
    readonly host: string,
    readonly address: string,
    private readonly ttlSeconds = 10,
    prefix?: string,
  ) {
    this.client = new Etcd3({ hosts: endpoint });
    this.keys = new KeyLayout(prefix);
    this.lease = this.client.lease(ttlSeconds);
    this.lease.on('lost', () => undefined);
  }

  get record(): HostRecord {
    return {
      host: this.host,
      vtep: { address: this.address, port: 4789 },
      encaps: ['vxlan'],
      agentVersion: 'fake',
      startedAt: 1,
    };
  }

  async register(ports: { port: string; vni: number }[] = []): Promise<void> {
    await this.lease.put(this.keys.host(this.host)).value(encodeHost(this.record));
    for (const p of ports) {
      await this.lease.put(this.keys.port(this.host, p.port)).value(
        encodePort({
          host: this.host,
          port: p.port,
          mode: 'access',
          bindings: [{ vni: p.vni, vlan: null }],
          state: 'up',
          macCount: 0,
        }),
      );
    }
  }

  async report(vni: number, mac: string, seq: number, port = 'tap0'): Promise<void> {
    await this.lease
      .put(this.keys.report(this.host, vni, mac))
      .value(encodeReport({ vni, mac, host: this.host, port, seq, ips: [], seenAt: Date.now() }));
  }

  async withdraw(vni: number, mac: string): Promise<void> {
    await this.client.delete().key(this.keys.report(this.host, vni, mac));
  }

  /** Stops keepalives without revoking: the lease expires after its TTL, as when the agent is SIGKILLed. */
  crash(): void {
    this.lease.release();
    this.client.close();
  }

  async close(): Promise<void> {
    await this.lease.revoke().catch(() => undefined);
    this.client.close();
  }
}
