import type { NetnsLab } from './netns-lab.js';
import { startAgent, type AgentProcess } from './agent-process.js';
import type { OffloadsMode } from './offloads.js';
import { plugVm } from './vm-setup.js';

/** The underlay addresses of host A and host B, and the prefix length of their link. */
const UNDERLAY = {
  ipv4: { a: '198.51.100.1', b: '198.51.100.2', prefix: 24 },
  ipv6: { a: '2001:db8::1', b: '2001:db8::2', prefix: 64 },
} as const;

/**
 * Two host namespaces on a veth underlay, as the agent e2e tests use them:
 * host A at 198.51.100.1 (device `<lab>ua`), host B at 198.51.100.2 (`<lab>ub`);
 * with `ipv6`, 2001:db8::1 and 2001:db8::2 (/64) on namespaces with IPv6 on.
 */
export async function twoHostUnderlay(
  lab: NetnsLab,
  options: { ipv6?: boolean } = {},
): Promise<{ hostA: string; hostB: string; vtepA: string; vtepB: string }> {
  const ipv6 = options.ipv6 === true;
  const { a, b, prefix } = UNDERLAY[ipv6 ? 'ipv6' : 'ipv4'];
  const hostA = await lab.netns('ha', { ipv6 });
  const hostB = await lab.netns('hb', { ipv6 });
  await lab.veth(hostA, lab.name('ua'), `${a}/${prefix}`, hostB, lab.name('ub'), `${b}/${prefix}`);
  return { hostA, hostB, vtepA: a, vtepB: b };
}

/**
 * The agent config of host A or host B (IPv4 underlay) with VNIs 100 and 200
 * over VXLAN, overlay MTU 1450, the other host their static peer: `host-a`
 * or `host-b`, offloads as `offloads` says. Callers spread in its ports.
 */
export function twoVxlanNetworksAgent(side: 'a' | 'b', offloads: OffloadsMode): Record<string, unknown> {
  const { a, b } = UNDERLAY.ipv4;
  const [self, peer] = side === 'a' ? [a, b] : [b, a];
  return {
    host: `host-${side}`,
    offloads,
    vtep: { address: self },
    networks: [
      { vni: 100, encap: 'vxlan', mtu: 1450, peers: [peer] },
      { vni: 200, encap: 'vxlan', mtu: 1450, peers: [peer] },
    ],
  };
}

export interface TwoAgents {
  hostA: string;
  hostB: string;
  agentA: AgentProcess;
  agentB: AgentProcess;
  /** The VM namespaces: vmA behind TAP `<lab>a1` on host A (192.0.2.11/24), vmB behind `<lab>b1` on host B (192.0.2.21/24). */
  vmA: string;
  vmB: string;
}

/**
 * twoHostUnderlay with an agent on each host (offloads as `offloads` says)
 * that has one network, `network` with the other host as its static peer, and
 * one TAP it created in that network, plugged into a VM of its own.
 */
export async function twoAgentsOneVmEach(
  lab: NetnsLab,
  options: { network: { vni: number; encap: string; mtu: number }; offloads: OffloadsMode; ipv6?: boolean },
): Promise<TwoAgents> {
  const { hostA, hostB, vtepA, vtepB } = await twoHostUnderlay(lab, { ipv6: options.ipv6 });
  const agent = (host: string, self: string, peer: string, tap: string, name: string) =>
    startAgent(lab, host, `agent-${tap}`, {
      host: name,
      vtep: { address: self },
      offloads: options.offloads,
      networks: [{ ...options.network, peers: [peer] }],
      ports: [{ name: tap, vni: options.network.vni }],
    });
  const agentA = await agent(hostA, vtepA, vtepB, lab.name('a1'), 'host-a');
  const agentB = await agent(hostB, vtepB, vtepA, lab.name('b1'), 'host-b');
  const vmA = await lab.netns('va1');
  const vmB = await lab.netns('vb1');
  await plugVm(lab, hostA, lab.name('a1'), vmA, ['192.0.2.11/24']);
  await plugVm(lab, hostB, lab.name('b1'), vmB, ['192.0.2.21/24']);
  return { hostA, hostB, agentA, agentB, vmA, vmB };
}
