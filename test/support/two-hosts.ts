import type { NetnsLab } from './netns-lab.js';

/**
 * Two host namespaces on a veth underlay, as the agent e2e tests use them:
 * host A at 198.51.100.1 (device `<lab>ua`), host B at 198.51.100.2 (`<lab>ub`).
 */
export async function twoHostUnderlay(lab: NetnsLab): Promise<{ hostA: string; hostB: string }> {
  const hostA = await lab.netns('ha');
  const hostB = await lab.netns('hb');
  await lab.veth(hostA, lab.name('ua'), '198.51.100.1/24', hostB, lab.name('ub'), '198.51.100.2/24');
  return { hostA, hostB };
}

/** VNIs 100 and 200 over VXLAN, overlay MTU 1450, with `peer` as their static peer. */
export function twoVxlanNetworks(peer: string): Record<string, unknown>[] {
  return [
    { vni: 100, encap: 'vxlan', mtu: 1450, peers: [peer] },
    { vni: 200, encap: 'vxlan', mtu: 1450, peers: [peer] },
  ];
}
