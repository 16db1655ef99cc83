/**
 * A lab is ready when every agent's flood list of every VNI holds the VTEPs
 * it should: the other dvs hosts with a VM in that VNI, and the kernel hosts
 * of VXLAN networks. With a controller that takes a moment after the VMs
 * attach (reports → controller → etcd → agents); waiting for it makes the
 * first ping of a fresh lab as good as any later one.
 */
import type { AdminClient } from '@dvs/admin-client';
import type { LabState } from './lab-state.js';

/** Addresses each agent should have in each VNI's flood list, keyed `host/vni`. */
export function expectedFloodLists(state: LabState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const host of state.hosts.filter((h) => h.kind === 'dvs')) {
    for (const n of state.networks) {
      const members = state.hosts.filter(
        (h) =>
          h !== host &&
          ((h.kind === 'dvs' && state.vms.some((v) => v.host === h.name && v.vni === n.vni)) ||
            (h.kind === 'kernel' && n.encap === 'vxlan')),
      );
      out.set(
        `${host.name}/${n.vni}`,
        members.map((h) => h.underlayAddress),
      );
    }
  }
  return out;
}

/** What is still missing (`h1 VNI 100: 198.51.100.12`); empty when every flood list is complete. */
export async function missingFloodMembers(state: LabState, admin: (host: string) => AdminClient): Promise<string[]> {
  const missing: string[] = [];
  const expected = expectedFloodLists(state);
  for (const host of state.hosts.filter((h) => h.kind === 'dvs')) {
    const { data } = await admin(host.name).call('networks/show');
    for (const n of state.networks) {
      const have = new Set((data.find((v) => v.vni === n.vni)?.floodList ?? []).map((id) => id.replace(/:\d+$/, '')));
      const lacking = (expected.get(`${host.name}/${n.vni}`) ?? []).filter((a) => !have.has(a));
      if (lacking.length > 0) missing.push(`${host.name} VNI ${n.vni}: ${lacking.join(' ')}`);
    }
  }
  return missing;
}

/** Polls until every flood list is complete; returns what is still missing at the deadline. */
export async function waitForFloodLists(
  state: LabState,
  admin: (host: string) => AdminClient,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const missing = await missingFloodMembers(state, admin);
    if (missing.length === 0 || Date.now() > deadline || options.signal?.aborted) return missing;
    await new Promise((r) => setTimeout(r, 100));
  }
}
