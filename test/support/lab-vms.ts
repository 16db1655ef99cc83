/**
 * VMs added to a running namespace lab (`@dvs/lab`) by a test, named by the
 * lab's layout and recorded in its state file before they are created, so
 * `lab.down()` — or `dvs lab down` after a crashed run — removes them with
 * the rest; `lab.vm()`, `lab.exec()` and `migrateVm()` know them like the
 * lab's own VMs.
 */
import {
  devicePrefix,
  devices,
  namespaceName,
  parsePingSummary,
  vmAddress,
  vmMac,
  vmName,
  type Lab,
  type VmState,
} from '@dvs/lab';
import { DEFAULT_OVERLAY_MTU } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { run } from './run-command.js';

export interface ExtraVmSpec {
  /** VM number, unique in the lab (names `vm<n>`, its MAC and devices follow from it). */
  number: number;
  /** dvs host whose agent it plugs into. */
  host: string;
  vni: number;
  /** Which lab overlay subnet its address comes from: 0 → 192.0.2.0/24, 1 → 203.0.113.0/24. */
  subnet: 0 | 1;
}

/** Creates a namespace named by the lab, recorded in its state first; IPv6 off (no unsolicited frames). */
export async function addLabNamespace(lab: Lab, name: string): Promise<string> {
  const ns = namespaceName(lab.id, name);
  if (!lab.state.namespaces.includes(ns)) lab.state.namespaces.push(ns);
  await lab.save();
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await run([
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  ]);
  return ns;
}

async function newVm(lab: Lab, spec: ExtraVmSpec): Promise<VmState> {
  const name = vmName(spec.number);
  if (lab.state.vms.some((v) => v.name === name || v.number === spec.number)) {
    throw new Error(`the lab already has a VM number ${spec.number}`);
  }
  const { address, prefixLength } = vmAddress(spec.subnet, spec.number);
  const vm: VmState = {
    name,
    number: spec.number,
    netns: await addLabNamespace(lab, name),
    host: spec.host,
    vni: spec.vni,
    mac: vmMac(lab.id, spec.number),
    address,
    prefixLength,
    ifname: '',
    generation: 0,
  };
  lab.state.vms.push(vm);
  await lab.save();
  return vm;
}

/** Gives the VM's NIC (already in its namespace) the VM's MAC, MTU and address, and brings it up. */
async function configureNic(vm: VmState, ifname: string): Promise<void> {
  await run(['ip', '-n', vm.netns, 'link', 'set', ifname, 'down']);
  await run(['ip', '-n', vm.netns, 'link', 'set', ifname, 'address', vm.mac, 'mtu', String(DEFAULT_OVERLAY_MTU)]);
  await run(['ip', '-n', vm.netns, 'addr', 'add', `${vm.address}/${vm.prefixLength}`, 'dev', ifname]);
  await run(['ip', '-n', vm.netns, 'link', 'set', ifname, 'up']);
  vm.ifname = ifname;
}

/**
 * The lab's way: the host's agent creates the TAP (`ports/add <tap> <vni>`),
 * the TAP moves into the VM's namespace (the agent keeps its file
 * descriptor) and becomes the VM's NIC. The TAP lives as long as the agent
 * holds it.
 */
export async function attachVmToAgent(lab: Lab, spec: ExtraVmSpec): Promise<VmState> {
  const vm = await newVm(lab, spec);
  const tap = devices.vmTap(lab.id, vm.number, vm.generation);
  await lab.admin(spec.host).call('ports/add', [tap, String(spec.vni)]);
  await run(['ip', '-n', lab.host(spec.host).netns, 'link', 'set', tap, 'netns', vm.netns]);
  await configureNic(vm, tap);
  await lab.save();
  return vm;
}

export interface PersistentTapVm {
  vm: VmState;
  /** The persistent TAP in the host namespace, for the agent to adopt by name. */
  tap: string;
}

/**
 * The way a hypervisor leaves a VM while its switch restarts: a persistent
 * TAP (`ip tuntap add`) stays in the host namespace, where the agent can
 * adopt it by name again and again (a TAP moved into another namespace can
 * no longer be found by name from the host's). The VM's NIC is a veth whose
 * host end is bridged to the TAP: frames the agent writes to the TAP reach
 * the VM, frames the VM sends leave through the TAP to the agent. Nothing
 * here depends on the agent running, as with QEMU holding the guest.
 *
 *   agent ══fd══ TAP ─┐ bridge (host namespace) ┌─ veth ═══ veth (VM namespace, the VM's MAC)
 *
 * The agent is not told about the TAP: the caller adopts it
 * (`ports/add <tap> <vni> adopt`, or `plug: adopt` in the config).
 */
export async function attachVmBehindPersistentTap(lab: Lab, spec: ExtraVmSpec): Promise<PersistentTapVm> {
  const vm = await newVm(lab, spec);
  const hostNs = lab.host(spec.host).netns;
  const tap = devices.vmTap(lab.id, vm.number, vm.generation);
  const bridge = `${devicePrefix(lab.id)}w${vm.number}`;
  const hostEnd = devices.vmVethPeer(lab.id, vm.number);
  const vmEnd = devices.vmVeth(lab.id, vm.number);
  const mtu = String(DEFAULT_OVERLAY_MTU);
  await run(['ip', '-n', hostNs, 'tuntap', 'add', 'mode', 'tap', 'name', tap]);
  await run(['ip', '-n', hostNs, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  // created in the root namespace, each end placed at once: nothing of ours is left outside lab namespaces.
  await run([
    'ip',
    'link',
    'add',
    hostEnd,
    'netns',
    hostNs,
    'mtu',
    mtu,
    'type',
    'veth',
    'peer',
    'name',
    vmEnd,
    'netns',
    vm.netns,
    'mtu',
    mtu,
  ]);
  for (const dev of [tap, hostEnd]) {
    await run(['ip', '-n', hostNs, 'link', 'set', dev, 'mtu', mtu, 'master', bridge, 'up']);
  }
  await run(['ip', '-n', hostNs, 'link', 'set', bridge, 'up']);
  await configureNic(vm, vmEnd);
  await lab.save();
  return { vm, tap };
}

/** How many of 3 pings at 200 ms from `from` to `to` were answered. */
export async function vmPingReplies(lab: Lab, from: VmState, to: VmState): Promise<number> {
  const r = await lab.exec(from.name, ['ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', to.address]);
  return parsePingSummary(r.stdout).received;
}

/** Whether `from` reaches `to`: 3 pings at 200 ms, none lost. */
export async function vmPings(lab: Lab, from: VmState, to: VmState): Promise<boolean> {
  return (await vmPingReplies(lab, from, to)) === 3;
}

/** Waits (up to 30 s) until `from` reaches `to`; fails naming both and why it was expected. */
export async function waitVmPing(lab: Lab, from: VmState, to: VmState, why: string): Promise<void> {
  await waitFor(`${from.name} → ${to.name} ${why}`, () => vmPings(lab, from, to), 30_000, 100);
}

/** Waits (up to 10 s) until the process `pid` is gone. */
export async function waitPidExit(pid: number): Promise<void> {
  await waitFor(
    `pid ${pid} gone`,
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    10_000,
  );
}
