/**
 * An agent's etcd footprint without a data path: host, port and MAC report
 * records on its own lease, as dvs-agent writes them. Lets controller tests
 * drive reports, moves and lease expiry precisely — and, logged in as its
 * own etcd identity (`auth`), try what a compromised host would.
 */
import { encodeHost, encodePort, encodeReport, encodeTunnelStatus, KeyLayout, type HostRecord } from '@dvs/wire';
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
    private readonly extra: { auth?: { username: string; password: string }; labels?: Record<string, string> } = {},
  ) {
    this.client = new Etcd3({ hosts: endpoint, ...(extra.auth ? { auth: extra.auth } : {}) });
    this.keys = new KeyLayout(prefix);
    this.lease = this.client.lease(ttlSeconds);
    this.lease.on('lost', () => undefined);
  }

  get record(): HostRecord {
    return {
      host: this.host,
      vtep: { address: this.address, port: 4789 },
      encaps: ['vxlan'],
      ...(this.extra.labels ? { labels: this.extra.labels } : {}),
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
    await this.lease.put(this.keys.report(this.host, vni, mac)).value(this.reportValue(vni, mac, seq, port));
  }

  /** The report record an agent writes (for tests that put it under another key or lease). */
  reportValue(vni: number, mac: string, seq: number, port = 'tap0'): Buffer {
    return encodeReport({ vni, mac, host: this.host, port, seq, ips: [], seenAt: Date.now() });
  }

  /** Its tunnel status record: what its probes say of each peer (`status/<host>`). */
  async tunnelStatus(peers: { host: string; address: string; state: 'up' | 'down' }[]): Promise<void> {
    await this.lease.put(this.keys.status(this.host)).value(
      encodeTunnelStatus({
        host: this.host,
        peers: peers.map((p) => ({
          vtep: { address: p.address, port: 4789 },
          host: p.host,
          encap: 'vxlan',
          state: p.state,
          rtt: null,
          lossPct: p.state === 'down' ? 100 : 0,
          lastChange: Date.now(),
          reason: p.state === 'down' ? 'probe timeout' : 'probe answered',
          rxPackets: 0,
          txPackets: 0,
          rxBytes: 0,
          txBytes: 0,
        })),
        updatedAt: Date.now(),
      }),
    );
  }

  /** The id of the lease its records are on. */
  leaseId(): Promise<string> {
    return this.lease.grant();
  }

  async withdraw(vni: number, mac: string): Promise<void> {
    await this.client.delete().key(this.keys.report(this.host, vni, mac));
  }

  /** Stops keepalives without revoking: the lease expires after its TTL, as when the agent is SIGKILLed. */
  crash(): void {
    this.lease.release();
    this.client.close();
  }

  /** A clean stop, as dvs-agent's: its reports and ports deleted, then its lease revoked (nothing left stale). */
  async close(): Promise<void> {
    await this.client
      .delete()
      .prefix(this.keys.reportsOf(this.host))
      .catch(() => undefined);
    await this.client
      .delete()
      .prefix(this.keys.portsOf(this.host))
      .catch(() => undefined);
    await this.lease.revoke().catch(() => undefined);
    this.client.close();
  }
}
