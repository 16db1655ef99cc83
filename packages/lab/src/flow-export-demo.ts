/**
 * The demo's top-talkers step: the flow cache is switched on (IPFIX
 * cache-only: no collector) on the first dvs host, a VM there sends a fixed
 * ping to every other VM of the network, and the agent's `flows/show` lists
 * the top talkers, the same view as `dvs flows --vni <vni>`.
 */
import type { Lab } from './lab.js';

export interface TopTalkersDemo {
  text: string;
  /** Flows of the network in the cache (0: the feature saw nothing). */
  flows: number;
}

export async function demoTopTalkers(lab: Lab, vni: number): Promise<TopTalkersDemo> {
  const host = lab.state.hosts.find((h) => h.kind === 'dvs')?.name;
  const from = lab.state.vms.find((v) => v.vni === vni && v.host === host);
  if (host === undefined || from === undefined) return { text: `  no VM of VNI ${vni} on a dvs host`, flows: 0 };
  const admin = lab.admin(host);
  await admin.call('ipfix/set', ['cache-only']);
  try {
    const peers = lab.state.vms.filter((v) => v.vni === vni && v.name !== from.name);
    for (const [k, to] of peers.entries()) {
      // A different amount to each peer, so the ranking shows.
      await lab.exec(from.name, ['ping', '-n', '-q', '-c', String(5 * (k + 1)), '-i', '0.02', '-s', '500', to.address]);
    }
    const r = await admin.call('flows/show', [String(vni), 'top=8']);
    const flows = (r.data as unknown[]).length;
    return {
      text: `  $ dvs --lab ${lab.id}/${host} flows --vni ${vni} --top 8   (${from.name} pinged ${peers.length} VMs)\n${r.text.replace(/^/gm, '  ')}`,
      flows,
    };
  } finally {
    // Back to what it was: the cluster's setting, if any (set off would keep IPFIX off here for good).
    await admin.call('ipfix/clear');
  }
}
