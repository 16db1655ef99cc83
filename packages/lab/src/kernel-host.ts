/**
 * A kernel host: a host namespace that runs the Linux kernel's own vxlan device
 * and a bridge instead of a dvs agent, one pair per VXLAN network, with its VMs
 * on veths. It is the interop reference: dvs agents must exchange frames with
 * it byte for byte. BUM frames go head-end to every other host (all-zeros FDB
 * entries); unicast MACs are learned from the data plane, as the kernel does.
 */
import { DEFAULT_OVERLAY_MTU, VXLAN_UDP_PORT } from '@dvs/wire';
import { ipBatch, runCommand } from './command-runner.js';
import { devices } from './lab-layout.js';
import type { HostState, NetworkState, VmState } from './lab-state.js';
import { activateInterfaceLines, prepareInterfaceLines } from './vm-interface.js';

export async function createKernelSwitches(
  labId: string,
  host: HostState,
  networks: readonly NetworkState[],
): Promise<void> {
  const lines: string[] = [];
  for (const n of networks) {
    if (n.encap !== 'vxlan') continue;
    const br = devices.kernelBridge(labId, n.vni);
    const vx = devices.kernelVxlan(labId, n.vni);
    lines.push(
      `link add ${br} type bridge stp_state 0 forward_delay 0`,
      `link set ${br} mtu ${DEFAULT_OVERLAY_MTU} up`,
      `link add ${vx} type vxlan id ${n.vni} local ${host.underlayAddress} dstport ${VXLAN_UDP_PORT} learning`,
      `link set ${vx} master ${br} mtu ${DEFAULT_OVERLAY_MTU} up`,
    );
  }
  await ipBatch(host.netns, lines);
}

/** Sets the head-end flood list of the kernel host's vxlan device for a VNI (replaces the previous one). */
export async function setKernelFloodList(
  labId: string,
  host: HostState,
  vni: number,
  peers: readonly string[],
): Promise<void> {
  const vx = devices.kernelVxlan(labId, vni);
  await runCommand(['bridge', '-n', host.netns, 'fdb', 'del', '00:00:00:00:00:00', 'dev', vx], { allowFailure: true });
  const lines = peers
    .filter((p) => p !== host.underlayAddress)
    .map((p) => `fdb append 00:00:00:00:00:00 dev ${vx} dst ${p}`);
  if (lines.length === 0) return;
  await runCommand(['bridge', '-n', host.netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

/** Attaches a VM to the kernel host's bridge for its VNI through a veth pair. */
export async function attachKernelVm(labId: string, host: HostState, vm: VmState): Promise<void> {
  const inside = devices.vmVeth(labId, vm.number);
  const outside = devices.vmVethPeer(labId, vm.number);
  await ipBatch(host.netns, [
    `link add ${outside} type veth peer name ${inside} netns ${vm.netns}`,
    `link set ${outside} master ${devices.kernelBridge(labId, vm.vni)} mtu ${DEFAULT_OVERLAY_MTU} up`,
  ]);
  await ipBatch(vm.netns, [...prepareInterfaceLines(vm, inside), ...activateInterfaceLines(vm, inside)]);
}

/** The kernel host's FDB for a VNI: MAC → remote VTEP address (or 'local' for bridge ports). */
export async function kernelFdb(labId: string, host: HostState, vni: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const vx = devices.kernelVxlan(labId, vni);
  const r = await runCommand(
    ['bridge', '-n', host.netns, '-j', 'fdb', 'show', 'br', devices.kernelBridge(labId, vni)],
    {
      allowFailure: true,
    },
  );
  const v = await runCommand(['bridge', '-n', host.netns, '-j', 'fdb', 'show', 'dev', vx], { allowFailure: true });
  for (const e of parseJsonArray(r.stdout)) {
    if (e.mac && e.ifname !== vx && !e.flags?.includes('self') && e.state !== 'permanent') out.set(e.mac, 'local');
  }
  for (const e of parseJsonArray(v.stdout)) {
    if (e.mac && e.mac !== '00:00:00:00:00:00' && e.dst) out.set(e.mac, e.dst);
  }
  return out;
}

interface BridgeFdbJson {
  mac?: string;
  ifname?: string;
  dst?: string;
  flags?: string[];
  state?: string;
}

function parseJsonArray(text: string): BridgeFdbJson[] {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? (v as BridgeFdbJson[]) : [];
  } catch {
    return [];
  }
}
