/**
 * ARP/ND suppression checks in the namespace lab, for either datapath
 * provider: tshark on a host's underlay port counts the ARP requests and NSs
 * that cross it, and the VMs' own `ip neigh` shows what their kernels made
 * of the answers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { devices, labControllerClient, underlayNamespace, type Lab, type VmState } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { waitPidExit } from './lab-vms.js';

/** What one VXLAN packet carries, as tshark decodes it: ARP opcode and target, ICMPv6 type and ND target. */
export interface Decoded {
  arpOp: string;
  arpTarget: string;
  icmpv6Type: string;
  ndTarget: string;
}

export const ARP_REQUEST_FOR =
  (ip: string) =>
  (d: Decoded): boolean =>
    d.arpOp === '1' && d.arpTarget === ip;
export const NS_FOR =
  (ip: string) =>
  (d: Decoded): boolean =>
    d.icmpv6Type === '135' && d.ndTarget === ip;

export async function ping(lab: Lab, from: VmState, to: string, family: 4 | 6 = 4): Promise<boolean> {
  const r = await lab.exec(from.name, ['ping', `-${family}`, '-n', '-q', '-c', '1', '-W', '2', to]);
  return r.code === 0;
}

/**
 * Counts the VXLAN packets that `host` sends into the underlay while `act`
 * runs and that `match`es, with tshark decoding live on the host's underlay
 * port. The capture proves itself: an ARP for an IP nobody holds (flooded
 * whatever the setting) must show before `act` and another after it, so a
 * count of 0 means nothing crossed, not that tshark was not yet listening.
 */
export async function countOnUnderlay(
  lab: Lab,
  host: string,
  from: VmState,
  match: (d: Decoded) => boolean,
  act: () => Promise<void>,
): Promise<number> {
  const ns = underlayNamespace(lab.id);
  const port = devices.underlayPort(lab.id, host);
  const fields = ['arp.opcode', 'arp.dst.proto_ipv4', 'icmpv6.type', 'icmpv6.nd.ns.target_address'];
  const argv = ['netns', 'exec', ns, 'tshark', '-i', port, '-f', 'udp port 4789', '-l', '-T', 'fields'];
  const child = spawn('ip', [...argv, ...fields.flatMap((f) => ['-e', f])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const decoded = (): Decoded[] =>
    stdout
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [arpOp = '', arpTarget = '', icmpv6Type = '', ndTarget = ''] = line.split('\t');
        return { arpOp, arpTarget, icmpv6Type, ndTarget };
      });
  const marker = async (last: number): Promise<void> => {
    const ip = `${from.address.split('.').slice(0, 3).join('.')}.${last}`;
    await waitFor(
      `tshark on ${port} sees an ARP for ${ip}`,
      async () => {
        await ping(lab, from, ip);
        return decoded().some((d) => d.arpOp === '1' && d.arpTarget === ip);
      },
      20_000,
      100,
    );
  };
  try {
    await waitFor(`tshark capturing on ${port}`, () => stderr.includes('Capturing on'), 15_000);
    await marker(251);
    const start = decoded().length;
    await act();
    await marker(252);
    return decoded().slice(start).filter(match).length;
  } finally {
    child.kill('SIGTERM');
    await waitPidExit(child.pid!);
  }
}

export async function neighbour(
  lab: Lab,
  from: VmState,
  ip: string,
): Promise<{ lladdr?: string; state?: string[] } | undefined> {
  const r = await lab.exec(from.name, ['ip', '-j', 'neigh', 'show', ip, 'dev', from.ifname]);
  const entries = JSON.parse(r.stdout || '[]') as Array<{ dst: string; lladdr?: string; state?: string[] }>;
  return entries.find((e) => e.dst === ip);
}

/** The VM resolved `ip` to `mac` (a usable entry: REACHABLE, STALE or DELAY). */
export async function assertResolved(lab: Lab, from: VmState, ip: string, mac: string): Promise<void> {
  const n = await neighbour(lab, from, ip);
  assert.equal(n?.lladdr, mac, `${from.name}'s neighbour entry for ${ip}`);
  assert.ok(
    n?.state?.some((s) => ['REACHABLE', 'STALE', 'DELAY'].includes(s)),
    `state ${JSON.stringify(n?.state)}`,
  );
}

export async function flushNeighbours(lab: Lab, v: VmState): Promise<void> {
  await lab.exec(v.name, ['ip', 'neigh', 'flush', 'dev', v.ifname]);
  await lab.exec(v.name, ['ip', '-6', 'neigh', 'flush', 'dev', v.ifname]);
}

/** Sets the network's ARP suppression through the controller and waits until every agent has it. */
export async function setSuppression(lab: Lab, vni: number, on: boolean): Promise<void> {
  await labControllerClient(lab.state).updateNetwork(vni, { arpSuppression: on });
  for (const h of lab.state.hosts.filter((x) => x.kind === 'dvs')) {
    await waitFor(
      `${h.name} has ARP suppression ${on ? 'on' : 'off'}`,
      async () => {
        const { data } = await lab.admin(h.name).call('networks/show');
        return data.find((n) => n.vni === vni)?.arpSuppression === on;
      },
      15_000,
    );
  }
}

/** The controller publishes `ip` with `v`'s MAC (the binding reached every agent's table through etcd). */
export async function waitPublished(lab: Lab, vni: number, v: VmState, ip: string, host = v.host): Promise<void> {
  const client = labControllerClient(lab.state);
  await waitFor(
    `the controller publishes ${ip} with ${v.mac} at ${host}`,
    async () => {
      const entries = await client.fdb({ vni, mac: v.mac });
      return entries.some((e) => e.host === host && e.ips.includes(ip));
    },
    20_000,
    100,
  );
}

/** Gives both VMs an IPv6 address (2001:db8:<vni>::<number>) on their interface. */
export async function addIpv6(lab: Lab, vni: number, vms: readonly VmState[]): Promise<void> {
  for (const v of vms) {
    await lab.exec(v.name, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0']);
    await lab.exec(v.name, ['sysctl', '-q', '-w', `net.ipv6.conf.${v.ifname}.disable_ipv6=0`]);
    await lab.exec(v.name, ['ip', '-6', 'addr', 'add', `${v6Of(vni, v)}/64`, 'dev', v.ifname, 'nodad']);
  }
}

export const v6Of = (vni: number, v: VmState): string => `2001:db8:${vni}::${v.number}`;
