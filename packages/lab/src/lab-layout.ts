/**
 * The lab's naming and addressing plan, derived from the lab id alone so that
 * every name is predictable (and `down` can find leftovers by prefix).
 *
 *  - Every namespace is `dvl-<id>-<name>`; every device starts with `dvl<id>`
 *    (at most 15 bytes: IFNAMSIZ - 1).
 *  - Underlay: 198.51.100.0/24 on a bridge in the `ul` namespace. The bridge
 *    itself holds .1 (etcd and the controller listen there); dvs host i is
 *    .(10+i), kernel host j is .(100+j), etcd member k of a 3-node cluster
 *    .(200+k) (each in its own namespace `e<k>`).
 *  - Overlay: network 1 uses 192.0.2.0/24, network 2 203.0.113.0/24; VM n has
 *    host number 10+n in its network's subnet.
 *  - VM MACs are locally administered (02:…), stable per lab id and VM.
 *  - QEMU VMs are numbered after the namespace VMs (QEMU VM k of a lab with
 *    m namespace VMs is VM number m+k: address and MAC as above) and named
 *    `qvm<k>`.
 */
import { LabError } from './errors.js';

export const LAB_PREFIX = 'dvl';
/** Exactly 4 characters: device names `dvl<id><suffix>` then never share a prefix between labs. */
export const LAB_ID_PATTERN = /^[a-z0-9]{4}$/;
export const UNDERLAY_CONTROL_ADDRESS = '198.51.100.1';
export const UNDERLAY_PREFIX_LENGTH = 24;
export const OVERLAY_SUBNETS = ['192.0.2.0/24', '203.0.113.0/24'] as const;
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const CONTROLLER_PORT = 7400;
export const MAX_VMS = 200;
export const MAX_HOSTS = 80;
const IFNAMSIZ_MAX = 15;

export function assertLabId(id: string, option = '--id'): void {
  if (!LAB_ID_PATTERN.test(id)) {
    throw new LabError('DVS_LAB_BAD_SPEC', `lab id "${id}" is invalid: use exactly 4 characters a-z 0-9 (${option})`);
  }
}

export function namespaceName(labId: string, name: string): string {
  return `${LAB_PREFIX}-${labId}-${name}`;
}

export function underlayNamespace(labId: string): string {
  return namespaceName(labId, 'ul');
}

/** Prefix every device of this lab starts with. */
export function devicePrefix(labId: string): string {
  return `${LAB_PREFIX}${labId}`;
}

function deviceName(labId: string, suffix: string): string {
  const name = devicePrefix(labId) + suffix;
  if (name.length > IFNAMSIZ_MAX) throw new LabError('DVS_LAB_BAD_SPEC', `device name ${name} longer than 15 bytes`);
  return name;
}

export const devices = {
  underlayBridge: (labId: string) => deviceName(labId, 'br'),
  /** Underlay veth end on the bridge side (in the underlay namespace). */
  underlayPort: (labId: string, host: string) => deviceName(labId, `u${host}`),
  /** Underlay veth end inside the host namespace. */
  hostUplink: (labId: string, host: string) => deviceName(labId, host),
  /** TAP of a VM on a dvs host; generation grows with every migration. */
  vmTap: (labId: string, vm: number, generation: number) => deviceName(labId, `v${vm}g${generation}`),
  /** TAP that a QEMU VM's QEMU holds on its host (`q<k>g<generation>`); a new one on each migration. */
  qemuTap: (labId: string, k: number, generation: number) => deviceName(labId, `q${k}g${generation}`),
  /** Kernel host: VM end of the veth (inside the VM namespace). */
  vmVeth: (labId: string, vm: number) => deviceName(labId, `v${vm}`),
  /** Kernel host: bridge end of the VM veth. */
  vmVethPeer: (labId: string, vm: number) => deviceName(labId, `v${vm}k`),
  kernelBridge: (labId: string, vni: number) => deviceName(labId, `b${vni}`),
  kernelVxlan: (labId: string, vni: number) => deviceName(labId, `x${vni}`),
};

export function dvsHostName(i: number): string {
  return `h${i}`;
}

export function kernelHostName(j: number): string {
  return `k${j}`;
}

export function vmName(n: number): string {
  return `vm${n}`;
}

/** QEMU VM k (1-based) of a lab: `qvm<k>`. */
export function qemuVmName(k: number): string {
  return `qvm${k}`;
}

export function dvsHostAddress(i: number): string {
  return `198.51.100.${10 + i}`;
}

/** Member k (1..3) of a lab's 3-node etcd cluster. */
export function etcdMemberAddress(k: number): string {
  return `198.51.100.${200 + k}`;
}

export function kernelHostAddress(j: number): string {
  return `198.51.100.${100 + j}`;
}

/** Address and prefix length of VM n in the network with the given index (0 or 1). */
export function vmAddress(networkIndex: number, vm: number): { address: string; prefixLength: number } {
  const subnet = OVERLAY_SUBNETS[networkIndex];
  if (subnet === undefined) throw new LabError('DVS_LAB_BAD_SPEC', `at most ${OVERLAY_SUBNETS.length} networks`);
  const base = subnet.split('/')[0].split('.').slice(0, 3).join('.');
  return { address: `${base}.${10 + vm}`, prefixLength: 24 };
}

/** Stable locally administered MAC for VM n of a lab: 02:d5:<lab hash>:00:<n hi>:<n lo>. */
export function vmMac(labId: string, vm: number): string {
  let h = 0;
  for (const c of labId) h = (h * 31 + c.charCodeAt(0)) & 0xff;
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  return ['02', 'd5', hex(h), '00', hex((vm >> 8) & 0xff), hex(vm & 0xff)].join(':');
}

export function randomLabId(): string {
  return Math.random().toString(36).slice(2, 6).padEnd(4, '0');
}
