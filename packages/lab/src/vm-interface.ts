/**
 * A VM is a network namespace whose only NIC is the TAP its host's agent holds
 * (or, on a kernel host, a veth on the host's bridge). The VM keeps its MAC and
 * address for life, wherever it runs: that is what a live migration preserves.
 */
import { DEFAULT_OVERLAY_MTU } from '@dvs/wire';
import { ipBatch, runCommand, runInNamespace } from './command-runner.js';
import { OVERLAY_SUBNETS } from './lab-layout.js';
import type { LabRecorder } from './lab-recorder.js';
import type { VmState } from './lab-state.js';

/** Creates the VM's namespace; IPv6 off so the only traffic is what the lab sends (plus ARP). */
export async function createVmNamespace(recorder: LabRecorder, netns: string): Promise<void> {
  await recorder.createNamespace(netns);
  await quietNamespace(netns);
}

/** IPv6 off in a namespace: no router solicitations, DAD or MLD frames in measurements. */
export async function quietNamespace(netns: string): Promise<void> {
  await runInNamespace(netns, [
    'sysctl',
    '-q',
    '-w',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  ]);
}

/** Moves a device from a host namespace into the VM's namespace. */
export async function moveIntoVm(hostNetns: string, ifname: string, vmNetns: string): Promise<void> {
  await ipBatch(hostNetns, [`link set ${ifname} netns ${vmNetns}`]);
}

/** Lines (for `ip -batch`) that give the VM's interface its MAC and MTU; the link stays down. */
export function prepareInterfaceLines(vm: VmState, ifname: string): string[] {
  return [`link set ${ifname} down`, `link set ${ifname} address ${vm.mac} mtu ${DEFAULT_OVERLAY_MTU}`];
}

/**
 * Lines that bring the VM's interface up with its address, plus an on-link
 * route to every other lab subnet: the VM then ARPs for an address in another
 * network on its own segment, so a ping across networks fails only if the
 * overlay really isolates them (a leak would let it succeed).
 */
export function activateInterfaceLines(vm: VmState, ifname: string): string[] {
  // Address before link up: a guest that announces itself on link up (arp_notify) has one to announce.
  const lines = [`addr add ${vm.address}/${vm.prefixLength} dev ${ifname}`, `link set ${ifname} up`];
  const own = `${vm.address.split('.').slice(0, 3).join('.')}.0/${vm.prefixLength}`;
  for (const subnet of OVERLAY_SUBNETS) if (subnet !== own) lines.push(`route add ${subnet} dev ${ifname}`);
  return lines;
}

export async function configureVmInterface(vm: VmState, ifname: string): Promise<void> {
  await ipBatch(vm.netns, [...prepareInterfaceLines(vm, ifname), ...activateInterfaceLines(vm, ifname)]);
}

/** The VM's neighbour entries on an interface, as `ip neigh replace` lines for another interface. */
export async function neighbourCopyLines(vm: VmState, fromIf: string, toIf: string): Promise<string[]> {
  const r = await runCommand(['ip', '-n', vm.netns, '-j', 'neigh', 'show', 'dev', fromIf], { allowFailure: true });
  if (r.code !== 0 || r.stdout.trim() === '') return [];
  const entries = JSON.parse(r.stdout) as Array<{ dst?: string; lladdr?: string }>;
  return entries
    .filter((e) => e.dst && e.lladdr)
    .map((e) => `neigh replace ${e.dst} lladdr ${e.lladdr} dev ${toIf} nud stale`);
}
