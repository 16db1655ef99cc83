/**
 * `dvs lab status`: what the lab is made of and whether its processes run,
 * as JSON (stable shape) or text.
 */
import type { Lab } from './lab.js';

export interface LabStatus {
  id: string;
  phase: string;
  createdAt: string;
  networks: Array<{ vni: number; name: string; encap: string; subnet: string }>;
  hosts: Array<{ name: string; kind: string; netns: string; underlay: string; agent: 'running' | 'stopped' | null }>;
  vms: Array<{ name: string; host: string; vni: number; mac: string; address: string; ifname: string }>;
  /** Real QEMU VMs: the TAP QEMU holds on its host (attached by the agent), QEMU's pid and run folder. */
  qemuVms: Array<{
    name: string;
    host: string;
    vni: number;
    mac: string;
    address: string;
    mtu: number;
    tap: string;
    pid: number;
    running: boolean;
    runDir: string;
    /** A destination QEMU waiting for a migration, when one is under way. */
    incomingPid: number | null;
  }>;
  processes: Array<{ role: string; name: string; pid: number; alive: boolean; logFile: string }>;
  controller: string | null;
  limitations: string[];
}

export async function labStatus(lab: Lab): Promise<LabStatus> {
  const processes = await lab.processStatus();
  const s = lab.state;
  return {
    id: s.id,
    phase: s.phase,
    createdAt: s.createdAt,
    networks: s.networks.map((n) => ({ vni: n.vni, name: n.name, encap: n.encap, subnet: n.subnet })),
    hosts: s.hosts.map((h) => {
      const p = processes.find((x) => x.role === 'agent' && x.name === h.name);
      return {
        name: h.name,
        kind: h.kind,
        netns: h.netns,
        underlay: h.underlayAddress,
        agent: h.kind === 'dvs' ? (p?.alive ? 'running' : 'stopped') : null,
      };
    }),
    vms: s.vms.map((v) => ({
      name: v.name,
      host: v.host,
      vni: v.vni,
      mac: v.mac,
      address: v.address,
      ifname: v.ifname,
    })),
    qemuVms: (s.qemuVms ?? []).map((v) => ({
      name: v.name,
      host: v.host,
      vni: v.vni,
      mac: v.mac,
      address: v.address,
      mtu: v.mtu,
      tap: v.tap,
      pid: v.qemu.pid,
      running: processes.some((p) => p.role === 'qemu' && p.pid === v.qemu.pid && p.alive),
      runDir: v.qemu.runDir,
      incomingPid: v.incoming?.pid ?? null,
    })),
    processes,
    controller: s.controller?.url ?? null,
    limitations: s.limitations,
  };
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    r
      .map((v, c) => v.padEnd(w[c]))
      .join('  ')
      .trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

export function renderLabStatus(st: LabStatus): string {
  const lines = [`lab ${st.id}: ${st.phase} since ${st.createdAt}; controller ${st.controller ?? 'none'}`, ''];
  lines.push(
    ...table(
      ['VNI', 'NETWORK', 'ENCAP', 'SUBNET'],
      st.networks.map((n) => [String(n.vni), n.name, n.encap, n.subnet]),
    ),
    '',
  );
  lines.push(
    ...table(
      ['HOST', 'KIND', 'UNDERLAY', 'AGENT', 'NETNS'],
      st.hosts.map((h) => [h.name, h.kind, h.underlay, h.agent ?? '-', h.netns]),
    ),
    '',
  );
  lines.push(
    ...table(
      ['VM', 'HOST', 'VNI', 'MAC', 'ADDRESS', 'NIC'],
      st.vms.map((v) => [v.name, v.host, String(v.vni), v.mac, v.address, v.ifname]),
    ),
    '',
  );
  if (st.qemuVms.length > 0) {
    lines.push(
      ...table(
        ['QEMU VM', 'HOST', 'VNI', 'MAC', 'ADDRESS', 'MTU', 'TAP (attached)', 'QEMU', 'RUN FOLDER'],
        st.qemuVms.map((v) => [
          v.name,
          v.host,
          String(v.vni),
          v.mac,
          v.address,
          String(v.mtu),
          v.tap,
          `${v.running ? 'running' : 'DEAD'} pid ${v.pid}${v.incomingPid === null ? '' : ` (+ destination pid ${v.incomingPid})`}`,
          v.runDir,
        ]),
      ),
      '',
    );
  }
  lines.push(
    ...table(
      ['PROCESS', 'PID', 'STATE', 'LOG'],
      st.processes.map((p) => [`${p.role}:${p.name}`, String(p.pid), p.alive ? 'running' : 'DEAD', p.logFile]),
    ),
  );
  for (const l of st.limitations) lines.push(`limitation: ${l}`);
  return lines.join('\n');
}
