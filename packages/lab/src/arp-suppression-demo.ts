/**
 * The demo's ARP suppression step: with the lab's bindings learned (the ping
 * matrix made every VM ARP), ARP suppression is switched on for one network,
 * every VM of it on a dvs host forgets its neighbours and pings every other
 * VM of the network once, and the agents' own counters say how many ARP
 * requests they answered locally, how many head-end copies that saved, and
 * how many they still flooded (IPs with no binding: a kernel host's VMs).
 */
import type { AgentNetworkView } from '@dvs/wire';
import { labControllerClient } from './api-credentials.js';
import type { Lab } from './lab.js';
import { parsePingSummary } from './ping-matrix.js';

export interface SuppressionDemo {
  text: string;
  /** ARP requests answered by the agents (0: the feature did nothing). */
  answered: number;
  pingsLost: number;
}

async function suppressionOf(lab: Lab, host: string, vni: number): Promise<AgentNetworkView | undefined> {
  const { data } = await lab.admin(host).call('networks/show');
  return data.find((n) => n.vni === vni);
}

export async function demoArpSuppression(lab: Lab, vni: number): Promise<SuppressionDemo> {
  const hosts = lab.state.hosts.filter((h) => h.kind === 'dvs').map((h) => h.name);
  await labControllerClient(lab.state).updateNetwork(vni, { arpSuppression: true });
  for (let round = 0; round < 100; round++) {
    const views = await Promise.all(hosts.map((h) => suppressionOf(lab, h, vni)));
    if (views.every((v) => v?.arpSuppression === true)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = await Promise.all(hosts.map((h) => suppressionOf(lab, h, vni)));
  const vms = lab.state.vms.filter((v) => v.vni === vni);
  let pings = 0;
  let lost = 0;
  for (const from of vms.filter((v) => hosts.includes(v.host))) {
    await lab.exec(from.name, ['ip', 'neigh', 'flush', 'dev', from.ifname]);
    for (const to of vms) {
      if (to === from) continue;
      const r = await lab.exec(from.name, ['ping', '-n', '-q', '-c', '1', '-W', '1', to.address]);
      pings++;
      if (parsePingSummary(r.stdout).received === 0) lost++;
    }
  }
  const after = await Promise.all(hosts.map((h) => suppressionOf(lab, h, vni)));
  const lines: string[] = [];
  let answered = 0;
  let flooded = 0;
  let copiesSaved = 0;
  hosts.forEach((host, i) => {
    const a = (after[i]?.suppression.answered ?? 0) - (before[i]?.suppression.answered ?? 0);
    const f = (after[i]?.suppression.flooded ?? 0) - (before[i]?.suppression.flooded ?? 0);
    const copies = after[i]?.floodList.length ?? 0;
    answered += a;
    flooded += f;
    copiesSaved += a * copies;
    lines.push(
      `  ${host}: ${a} ARP requests answered locally, ${f} flooded; ${after[i]?.suppression.bindings ?? 0} IP bindings held`,
    );
  });
  lines.push(
    `  ${answered} broadcasts kept off the overlay (${copiesSaved} head-end copies saved), ${flooded} flooded for IPs with no binding`,
  );
  lines.push(`  ${pings - lost}/${pings} pings answered`);
  return { text: lines.join('\n'), answered, pingsLost: lost };
}
