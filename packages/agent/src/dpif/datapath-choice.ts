/**
 * Which provider serves a network, and why: the one rule, used by config
 * validation (before anything starts), by the agent at start and by
 * `Datapaths` for every network that arrives.
 *
 * One UDP port, one owner. The kernel's vxlan devices and this process's
 * VXLAN socket cannot both bind the VTEP's VXLAN port in one network
 * namespace (nor can a per-VNI vxlan device and an external-mode one). So a
 * host carries all its VXLAN networks on ONE provider, the host's VXLAN
 * owner:
 *  - agent `datapath: kernel` → the kernel (start fails when the kernel
 *    provider cannot open);
 *  - agent `datapath: userspace` (the default) → userspace;
 *  - agent `datapath: auto` → the kernel when it is there and no configured
 *    VXLAN network asks for userspace; else userspace, with the reason.
 * GRE-in-UDP networks always run in userspace on their own port (4754): the
 * kernel here has no FOU. A network's own `datapath` may say `auto` (the
 * owner's, or userspace for GRE-in-UDP) or name the provider it would get;
 * a VXLAN network naming the other provider, or a GRE-in-UDP network naming
 * the kernel, is a configuration error.
 */
import type { NetworkSpec } from '../datapath/control-surface.js';
import type { DatapathChoice, DatapathKind } from './provider.js';

/** Whether the kernel provider can run here (rtnetlink opened, bridge and vxlan devices can be made). */
export type KernelAvailability = { available: true } | { available: false; reason: string };

/** The host's VXLAN owner and why. */
export interface VxlanOwner {
  provider: DatapathKind;
  reason: string;
}

/** A network, as far as the choice goes. */
export interface NetworkChoiceInput {
  vni: number;
  name?: string;
  encap: NetworkSpec['encap'];
  datapath: DatapathChoice;
}

export type Placement =
  { ok: true; provider: DatapathKind; reason: string } | { ok: false; problem: string; fix: string };

/**
 * What a network asks for that the kernel provider cannot give, one phrase
 * each (empty: the kernel can carry it). The table grows with features.
 */
export function kernelMissing(network: Pick<NetworkSpec, 'encap'>): string[] {
  const missing: string[] = [];
  if (network.encap !== 'vxlan') missing.push(`${network.encap}: this kernel has no FOU (GRE-in-UDP)`);
  return missing;
}

/** Whether the agent's setting and the kernel decide the host's VXLAN owner, or the setting cannot be met. */
export function vxlanOwner(
  agentChoice: DatapathChoice,
  kernel: KernelAvailability,
  networks: readonly NetworkChoiceInput[],
): VxlanOwner | { problem: string } {
  if (agentChoice === 'userspace') return { provider: 'userspace', reason: 'agent datapath: userspace' };
  if (agentChoice === 'kernel') {
    if (!kernel.available)
      return { problem: `agent datapath: kernel, but the kernel provider cannot run: ${kernel.reason}` };
    return { provider: 'kernel', reason: 'agent datapath: kernel' };
  }
  const wantsUserspace = networks.find((n) => n.encap === 'vxlan' && n.datapath === 'userspace');
  if (wantsUserspace !== undefined)
    return {
      provider: 'userspace',
      reason: `auto: network ${label(wantsUserspace)} asks for userspace, and all VXLAN networks of a host share one provider`,
    };
  if (!kernel.available)
    return { provider: 'userspace', reason: `auto: kernel provider unavailable (${kernel.reason})` };
  return { provider: 'kernel', reason: 'auto: the kernel carries VXLAN' };
}

/** Where a network goes on a host whose VXLAN owner is `owner`. */
export function placeNetwork(network: NetworkChoiceInput, owner: VxlanOwner): Placement {
  const missing = kernelMissing(network);
  if (network.encap !== 'vxlan') {
    if (network.datapath === 'kernel')
      return {
        ok: false,
        problem: `network ${label(network)} asks for the kernel datapath, but ${missing.join('; ')}`,
        fix: 'set its datapath to auto or userspace',
      };
    return { ok: true, provider: 'userspace', reason: `${missing.join('; ')}: userspace on its own UDP port` };
  }
  if (network.datapath === 'auto') return { ok: true, provider: owner.provider, reason: owner.reason };
  if (network.datapath !== owner.provider)
    return {
      ok: false,
      problem: `network ${label(network)} asks for the ${network.datapath} datapath, but this host's VXLAN port belongs to the ${owner.provider} provider (${owner.reason}): one UDP port, one owner`,
      fix: `set the network's datapath to auto or ${owner.provider}, or the agent's datapath to ${network.datapath}`,
    };
  return { ok: true, provider: owner.provider, reason: `network datapath: ${network.datapath}` };
}

function label(n: NetworkChoiceInput): string {
  return n.name === undefined ? String(n.vni) : `${n.name} (VNI ${n.vni})`;
}
