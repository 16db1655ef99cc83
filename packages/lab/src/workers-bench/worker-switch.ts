/**
 * One benchmark host's switch with N data-path workers (the `workers`
 * benchmark starts it inside a host namespace, one per host):
 *
 *   node worker-switch.js '<SwitchConfig as JSON>'
 *
 * Starts a WorkerPool (N workers, a multi-queue TAP, N SO_REUSEPORT VXLAN
 * sockets), feeds it the tables (network, flood list, peers and the remote
 * VM's MAC) from this main thread, and prints `ready` once they are applied.
 * On SIGUSR2 it writes every worker's counters to `<countersFile>.snap`; on
 * SIGTERM to `countersFile`, and exits.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { WorkerPool, type TableChange } from '@dvs/agent';
import { VXLAN_UDP_PORT, parseMac } from '@dvs/wire';

export interface SwitchConfig {
  workers: number;
  tap: string;
  vni: number;
  mtu: number;
  /** This host's VTEP address and the other host's. */
  address: string;
  peer: string;
  /** The remote VM's MAC: an FDB entry fed to every worker. */
  remoteMac: string;
  countersFile: string;
  /**
   * The workers' outer source ports: `shared` (default), one range every
   * worker binds (SO_REUSEPORT), so a flow leaves from the same port
   * whichever worker sends it; `own`, 16 ephemeral ports per worker.
   */
  sourcePorts?: 'shared' | 'own';
  /** TAP offloads and UDP_GRO, as the agent's `offloads: on` (default true). */
  offloads?: boolean;
}

/** 16 ports, as the agent's default count. */
const SHARED_SOURCE_PORTS = { min: 49152, max: 49167 };

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as SwitchConfig;
  const offloads = config.offloads ?? true;
  const pool = await WorkerPool.start({
    workers: config.workers,
    tap: { name: config.tap, vni: config.vni, mtu: config.mtu, offloads },
    tunnel: {
      encap: 'vxlan',
      address: config.address,
      port: VXLAN_UDP_PORT,
      sourcePorts: config.sourcePorts === 'own' ? { count: 16 } : SHARED_SOURCE_PORTS,
      receiveOffload: offloads,
    },
  });
  pool.on('worker:exit', ({ worker, code }) => {
    process.stderr.write(`worker ${worker} ended (exit ${code})\n`);
    process.exit(1);
  });
  const peer = [{ address: config.peer, port: VXLAN_UDP_PORT }];
  const remoteMac = parseMac(config.remoteMac);
  if (remoteMac === null) throw new Error(`remoteMac: "${config.remoteMac}" is not a MAC`);
  const changes: TableChange[] = [
    { kind: 'network:set', network: { vni: config.vni, encap: 'vxlan', mtu: config.mtu } },
    { kind: 'flood:set', vni: config.vni, vteps: peer },
    { kind: 'peers:set', vni: config.vni, vteps: peer },
    { kind: 'fdb:set', vni: config.vni, mac: remoteMac, vtep: peer[0], seq: 1, static: true },
  ];
  for (const result of await pool.apply(changes)) {
    if (result.rejected.length > 0) throw new Error(`tables refused: ${JSON.stringify(result.rejected)}`);
  }
  // SIGUSR2: a snapshot of the counters to `<countersFile>.snap` (the bench reads the loops' load around a test).
  process.on('SIGUSR2', () => {
    void pool.counters().then((counters) => {
      writeFileSync(`${config.countersFile}.tmp`, JSON.stringify(counters));
      renameSync(`${config.countersFile}.tmp`, `${config.countersFile}.snap`);
    });
  });
  process.once('SIGTERM', () => {
    void (async () => {
      writeFileSync(config.countersFile, JSON.stringify(await pool.counters()));
      await pool.close();
      process.exit(0);
    })();
  });
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`worker-switch: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
