/**
 * The `ovs-userspace` path (issue 16: "a row for OVS's userspace datapath"):
 * per host namespace a private Open vSwitch — its own ovsdb-server and
 * ovs-vswitchd, database, unix sockets, pid and log files under the path's
 * temp dir (OVS_RUNDIR and friends point there; nothing system-wide is read
 * or touched) — with two `datapath_type=netdev` bridges, the layout OVS
 * documents for userspace tunnelling:
 *
 *  - dvbint: the VM's veth and a `type=vxlan` port (VNI 100) to the other
 *    host's VTEP;
 *  - dvbphy: the underlay veth (an AF_PACKET "system" port); the host's VTEP
 *    address moves from the veth to dvbphy's internal port, so OVS's tunnel
 *    routing finds it on a bridge it owns.
 *
 * The kernel no longer needs to see the underlay's IPv4: an nftables rule
 * drops it at prerouting (after OVS's packet socket has its copy), so the
 * kernel does not answer VXLAN datagrams with port-unreachables.
 *
 * The VM's veth gets TX checksum offload (and with it TSO) off: OVS's
 * userspace datapath reads it through a packet socket without virtio-net
 * headers, so partial checksums and 64 KB TSO frames would go out as they are
 * (OVS's documentation says the same for veths).
 *
 * The daemons run in the foreground as children of the bench (stopped by PID
 * with the path); their PIDs are the path's `agentPids`, so the report's CPU
 * per GB column is ovs-vswitchd's.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import type { BenchResources } from './bench-resources.js';

const OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsHostSpec {
  /** The host namespace (holds the underlay veth and the VM's host-side veth). */
  ns: string;
  /** Private directory for this host's database, sockets, pid and log files. */
  dir: string;
  /** This host's VTEP address and the other host's. */
  address: string;
  peer: string;
  vni: number;
  /** The VM's veth, host side, and the underlay veth. */
  vmPort: string;
  underlay: string;
  signal?: AbortSignal;
}

function ovsEnv(dir: string): Record<string, string> {
  return { OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir };
}

async function waitForFile(file: string, what: string, exited: () => boolean, log: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) return;
    if (exited()) throw new LabError('DVS_LAB_COMMAND_FAILED', `${what} exited at start (log: ${log})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new LabError('DVS_LAB_TIMEOUT', `${what} did not create ${file} (log: ${log})`);
}

/** Starts one host's private OVS and builds its bridges; returns ovs-vswitchd's PID. */
export async function startOvsHost(resources: BenchResources, h: OvsHostSpec): Promise<number> {
  await mkdir(h.dir, { recursive: true });
  const env = ovsEnv(h.dir);
  const run = (argv: string[]) =>
    resources.exec(h.ns, argv, { env: { ...process.env, ...env }, timeoutMs: 30_000, signal: h.signal });
  const db = join(h.dir, 'conf.db');
  const dbSocket = join(h.dir, 'db.sock');
  await run(['ovsdb-tool', 'create', db, OVS_SCHEMA]);
  /** Starts an OVS daemon in the foreground with its files in h.dir; resolves once `ready` (a file) exists. */
  const daemon = async (program: string, first: string, ready: string): Promise<number> => {
    const log = join(h.dir, `${program}.log`);
    const child = resources.spawn(
      h.ns,
      [
        program,
        first,
        `--unixctl=${join(h.dir, `${program}.ctl`)}`,
        `--pidfile=${join(h.dir, `${program}.pid`)}`,
        `--log-file=${log}`,
        ...(program === 'ovsdb-server' ? [`--remote=punix:${dbSocket}`] : []),
      ],
      join(h.dir, `${program}.out`),
      undefined,
      env,
    );
    if (child.pid === undefined) throw new LabError('DVS_LAB_COMMAND_FAILED', `could not start ${program} in ${h.ns}`);
    await waitForFile(ready, program, () => child.exitCode !== null, log);
    return child.pid;
  };
  await daemon('ovsdb-server', db, dbSocket);
  const vsctl = (...args: string[]) => run(['ovs-vsctl', `--db=unix:${dbSocket}`, '--timeout=30', ...args]);
  await vsctl('--no-wait', 'init');
  const vswitchd = await daemon('ovs-vswitchd', `unix:${dbSocket}`, join(h.dir, 'ovs-vswitchd.ctl'));
  // One transaction; without --no-wait it returns once ovs-vswitchd has applied it.
  await vsctl(
    ...['add-br', 'dvbint', '--', 'set', 'bridge', 'dvbint', 'datapath_type=netdev'],
    ...['--', 'add-port', 'dvbint', h.vmPort],
    ...['--', 'add-port', 'dvbint', 'dvbvx', '--', 'set', 'interface', 'dvbvx', 'type=vxlan'],
    ...[`options:remote_ip=${h.peer}`, `options:key=${h.vni}`],
    ...['--', 'add-br', 'dvbphy', '--', 'set', 'bridge', 'dvbphy', 'datapath_type=netdev'],
    ...['--', 'add-port', 'dvbphy', h.underlay],
  );
  await resources.ip(h.ns, [
    `addr flush dev ${h.underlay}`,
    `addr add ${h.address}/24 dev dvbphy`,
    'link set dvbphy up',
  ]);
  await resources.exec(h.ns, ['nft', '-f', '-'], {
    input: [
      'table ip dvbovs {',
      '  chain pre {',
      '    type filter hook prerouting priority -300;',
      `    iifname "${h.underlay}" drop;`,
      '  }',
      '}',
      '',
    ].join('\n'),
  });
  return vswitchd;
}

/** Turns TX checksum offload (and so TSO) off on the VM's veth: see the module comment. */
export async function vmVethChecksumsOff(resources: BenchResources, ns: string, ifname: string): Promise<void> {
  await resources.exec(ns, ['ethtool', '-K', ifname, 'tx', 'off']);
}
