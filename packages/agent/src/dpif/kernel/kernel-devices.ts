/**
 * The kernel devices of a network: the bridge `dvsbr<vni>` and the vxlan
 * device `dvsvx<vni>` enslaved to it, with dvs's mark. Adopted when they
 * carry the mark and match (VNI, local address, port, no learning), made
 * otherwise; and all of them removed when a host leaves the kernel provider.
 *
 * The bridge gets a fixed address of its own (bridgeAddress): an addressless
 * bridge takes the lowest MAC of its ports, and each change of that (a VM's
 * port with a lower MAC plugged in or out) flushes the bridge's neighbour
 * table, where ARP/ND suppression keeps its bindings (kernel-bindings.ts).
 */
import { createHash } from 'node:crypto';
import { formatMac, readMac } from '@dvs/wire';
import { dvsLinkAlias, isDvsLink, parseDvsLinkName, type KernelLink, type Rtnetlink } from '@dvs/netdev';
import type { KernelNetwork } from './kernel-network.js';

export interface KernelDeviceOptions {
  host: string;
  vtep: { address: string; port: number };
  /** How long the bridge keeps a learned local MAC without traffic. */
  agingSeconds: number;
}

/** Adopts or makes the network's two devices; sets its ifindexes. Throws the rtnetlink error. */
export function makeKernelDevices(rtnl: Rtnetlink, net: KernelNetwork, o: KernelDeviceOptions): void {
  const { address, port } = o.vtep;
  const alias = (role: string): string => dvsLinkAlias(`vni=${net.vni} role=${role} host=${o.host}`);
  let bridge = rtnl.link(net.bridge);
  let vxlan = rtnl.link(net.vxlan);
  if (vxlan !== undefined && !(isDvsLink(vxlan) && vxlanMatches(vxlan, net.vni, address, port))) {
    rtnl.deleteLink(net.vxlan);
    vxlan = undefined;
  }
  const bridgeMac = bridgeAddress(o.host, net.vni);
  if (bridge !== undefined && bridge.mac !== formatMac(bridgeMac))
    bridge = rtnl.setLink(net.bridge, { address: bridgeMac });
  if (bridge === undefined)
    bridge = rtnl.createBridge({
      name: net.bridge,
      address: bridgeMac,
      alias: alias('bridge'),
      mtu: net.spec.mtu,
      ageingSeconds: o.agingSeconds,
      stp: false,
      up: true,
    });
  // neigh_suppress on the vxlan port: the bridge answers ARP/ND for remote MACs (kernel-bindings.ts).
  const neighSuppress = net.spec.arpSuppression === true;
  if (vxlan === undefined)
    vxlan = rtnl.createVxlan({
      name: net.vxlan,
      alias: alias('vxlan'),
      vni: net.vni,
      local: address,
      port,
      learning: false,
      master: net.bridge,
      bridgePort: { neighSuppress },
      mtu: net.spec.mtu,
      up: true,
    });
  else rtnl.setLink(net.vxlan, { master: net.bridge, up: true, bridgePort: { learning: false, neighSuppress } });
  net.bridgeIndex = bridge.ifindex;
  net.vxlanIndex = vxlan.ifindex;
  setKernelMtu(rtnl, net);
}

/** A locally administered unicast MAC of the host and VNI: the same after a restart, distinct across hosts. */
export function bridgeAddress(host: string, vni: number): number {
  const digest = createHash('sha256').update(`dvs bridge ${host} ${vni}`).digest();
  digest[0] = (digest[0]! & 0xfc) | 0x02;
  return readMac(digest, 0);
}

export function setKernelMtu(rtnl: Rtnetlink, net: KernelNetwork): void {
  rtnl.setLink(net.vxlan, { mtu: net.spec.mtu, up: true });
  rtnl.setLink(net.bridge, { mtu: net.spec.mtu, up: true });
}

/**
 * Deletes the devices a kernel provider left in this namespace (marked dvs
 * bridges and vxlan devices): a host switched to the userspace provider would
 * otherwise find its VXLAN port held by them. Returns their names.
 */
export function removeKernelDevices(rtnl: Rtnetlink): string[] {
  const removed: string[] = [];
  for (const link of rtnl.links()) {
    if (parseDvsLinkName(link.name) === null || !isDvsLink(link)) continue;
    try {
      rtnl.deleteLink(link.ifindex);
      removed.push(link.name);
    } catch {
      // Gone with its bridge already, or not ours to delete after all.
    }
  }
  return removed;
}

function vxlanMatches(link: KernelLink, vni: number, address: string, port: number): boolean {
  const v = link.vxlan;
  return v !== undefined && v.vni === vni && v.local === address && v.port === port && !v.learning;
}
