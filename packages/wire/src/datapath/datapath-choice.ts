/**
 * Which datapath provider serves a network on a host, and why: the one rule,
 * used by the agent (config validation before anything starts, at start, and
 * for every network that arrives), by the controller API (a network that can
 * never be served as it asks is refused) and by the CLI (`dvs networks show`
 * says, for each host of a network, which provider serves it and why).
 *
 * One UDP port, one owner. The kernel's vxlan devices and the agent's own
 * VXLAN socket cannot both bind the VTEP's VXLAN port in one network
 * namespace (nor can a per-VNI vxlan device and an external-mode one). So a
 * host carries all its VXLAN networks on ONE provider, the host's VXLAN
 * owner, chosen when the agent starts:
 *  - agent `datapath: kernel` → the kernel (start fails when the kernel
 *    provider cannot open);
 *  - agent `datapath: userspace` (the default) → userspace;
 *  - agent `datapath: auto` → the kernel when it is there and no configured
 *    VXLAN network asks for userspace; else userspace, with the reason.
 * GRE-in-UDP networks always run in userspace on their own port (4754): the
 * kernel here has no FOU.
 *
 * A network's own `datapath` (agent config, or the controller's network
 * record) overrides the agent's: `auto` takes the owner (userspace for
 * GRE-in-UDP); a provider name asks for that one. A VXLAN network of the
 * agent's config that names the other provider, or any network that names
 * the kernel for GRE-in-UDP, is a configuration error (placeNetwork). A
 * network from the controller cannot stop a host: where its ask cannot be met
 * it is served by the provider that can (servedBy), and the reason says what
 * was asked, why not, and the fix.
 */
import type { Encap } from '../frames/encap.js';

/** The datapath providers of an agent: its own pipeline, or Linux's bridge + vxlan. */
export const DATAPATH_KINDS = ['kernel', 'userspace'] as const;
export type DatapathKind = (typeof DATAPATH_KINDS)[number];

/** What an agent or a network asks for: a provider, or `auto` (kernel when it can carry the network). */
export const DATAPATH_CHOICES = ['kernel', 'userspace', 'auto'] as const;
export type DatapathChoice = (typeof DATAPATH_CHOICES)[number];

export function isDatapathChoice(value: unknown): value is DatapathChoice {
  return typeof value === 'string' && (DATAPATH_CHOICES as readonly string[]).includes(value);
}

/** Whether the kernel provider can run here (rtnetlink opened, bridge and vxlan devices can be made). */
export type KernelAvailability = { available: true } | { available: false; reason: string };

/** The host's VXLAN owner and why (also published in the host record, for `dvs networks show`). */
export interface VxlanOwner {
  provider: DatapathKind;
  reason: string;
}

/** A network, as far as the choice goes. */
export interface NetworkChoiceInput {
  vni: number;
  name?: string;
  encap: Encap;
  datapath: DatapathChoice;
}

export type Placement =
  { ok: true; provider: DatapathKind; reason: string } | { ok: false; problem: string; fix: string };

/** Where a network is served: the provider and why, and whether its own ask could not be met. */
export interface ServedBy {
  provider: DatapathKind;
  reason: string;
  /** The network asked for the other provider, which this host cannot give it. */
  mismatch: boolean;
}

/**
 * What a network asks for that the kernel provider cannot give, one phrase
 * each (empty: the kernel can carry it). The table grows with features.
 */
export function kernelMissing(network: { encap: Encap }): string[] {
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

/** Where a network goes on a host whose VXLAN owner is `owner`, or why it cannot (a configuration error). */
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

/**
 * Where a network from the controller is served: as placeNetwork says, or,
 * where its ask cannot be met on this host, by the provider that can carry
 * it (the owner for VXLAN, userspace for GRE-in-UDP), the reason saying why.
 */
export function servedBy(network: NetworkChoiceInput, owner: VxlanOwner): ServedBy {
  const placed = placeNetwork(network, owner);
  if (placed.ok) return { provider: placed.provider, reason: placed.reason, mismatch: false };
  return {
    provider: network.encap === 'vxlan' ? owner.provider : 'userspace',
    reason: `${placed.problem}; ${placed.fix}`,
    mismatch: true,
  };
}

function label(n: NetworkChoiceInput): string {
  return n.name === undefined ? String(n.vni) : `${n.name} (VNI ${n.vni})`;
}
