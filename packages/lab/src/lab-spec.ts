/**
 * What `lab up` builds: hosts, VMs per host, networks and kernel hosts.
 * Parsing here gives one clear error naming the option and the fix.
 */
import { ENCAPS, isEncap, type Encap } from '@dvs/wire';
import { LabError } from './errors.js';
import { MAX_HOSTS, MAX_VMS, OVERLAY_SUBNETS } from './lab-layout.js';

export interface NetworkSpec {
  vni: number;
  encap: Encap;
  name?: string;
}

export interface LabSpec {
  /** dvs hosts (each runs an agent). */
  hosts: number;
  /** VMs per host (dvs hosts and kernel hosts alike); VM k of a host joins network k mod networks. */
  vmsPerHost: number;
  networks: NetworkSpec[];
  /** Hosts running the Linux kernel's vxlan device + bridge instead of an agent (VXLAN networks only). */
  kernelHosts: number;
  /** Start etcd and the controller (when built). Default true. */
  controlPlane?: boolean;
  /** etcd with authentication and dvs's RBAC roles (deploy/etcd/dvs-rbac.sh); agents and controller log in. */
  etcdAuth?: boolean;
  /** etcd over TLS with client certificates (deploy/etcd/make-certs.sh); with etcdAuth the CN is the user. */
  etcdTls?: boolean;
  /**
   * Real QEMU VMs in total (not per host), spread over the dvs hosts: each
   * dvs host in turn takes one per network (h1 one in network 1, one in
   * network 2, then h2, …). Default 0.
   */
  qemuVms?: number;
  /**
   * The agents' datapath (default userspace). With `kernel` every VM plugs
   * in through a veth whose host end the agent attaches and the kernel
   * enslaves to the VNI's bridge (a TAP moved into the VM's namespace would
   * leave the host's bridge).
   */
  datapath?: 'userspace' | 'kernel';
  /** The agents' `offloads` (TAP offloads, UDP_GRO). Default: the agent's own (on). */
  offloads?: 'on' | 'off';
  /**
   * etcd members (1 or 3, default 1). Three run each in its own namespace on
   * the underlay (198.51.100.201-203), TLS between peers and to clients.
   */
  etcdNodes?: number;
}

export const DEFAULT_VNIS = [100, 200];

/**
 * Parses `--networks`: comma-separated `vni[:encap]` (e.g. `100:vxlan,200:gre-udp`),
 * or a bare encap applied to default VNIs when absent.
 */
export function parseNetworks(text: string | undefined, defaultEncap: Encap): NetworkSpec[] {
  if (text === undefined || text.trim() === '') return [{ vni: DEFAULT_VNIS[0], encap: defaultEncap }];
  const out: NetworkSpec[] = [];
  for (const part of text.split(',')) {
    const [vniText, encapText] = part.trim().split(':');
    const vni = Number(vniText);
    if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff) {
      throw new LabError('DVS_LAB_BAD_SPEC', `--networks: "${part}" has no valid VNI (1..16777215), e.g. 100:vxlan`);
    }
    const encap = encapText ?? defaultEncap;
    if (!isEncap(encap)) {
      throw new LabError(
        'DVS_LAB_BAD_SPEC',
        `--networks: unknown encap "${encap}" in "${part}": use one of ${ENCAPS.join(', ')}`,
      );
    }
    if (out.some((n) => n.vni === vni)) throw new LabError('DVS_LAB_BAD_SPEC', `--networks: VNI ${vni} listed twice`);
    out.push({ vni, encap });
  }
  return out;
}

export function validateLabSpec(spec: LabSpec): void {
  const bad = (msg: string) => new LabError('DVS_LAB_BAD_SPEC', msg);
  if (!Number.isInteger(spec.hosts) || spec.hosts < 0 || spec.hosts > MAX_HOSTS) {
    throw bad(`--hosts must be 0..${MAX_HOSTS}`);
  }
  if (!Number.isInteger(spec.kernelHosts) || spec.kernelHosts < 0 || spec.kernelHosts > 20) {
    throw bad('--kernel-hosts must be 0..20');
  }
  if (spec.hosts + spec.kernelHosts < 1) throw bad('the lab needs at least one host: --hosts 1 or more');
  if (!Number.isInteger(spec.vmsPerHost) || spec.vmsPerHost < 0) throw bad('--vms must be 0 or more');
  const qemuVms = spec.qemuVms ?? 0;
  if (!Number.isInteger(qemuVms) || qemuVms < 0) throw bad('--qemu-vms must be 0 or more');
  if (qemuVms > 0 && spec.hosts < 1)
    throw bad('--qemu-vms needs a dvs host (--hosts 1 or more): the agents attach them');
  if ((spec.hosts + spec.kernelHosts) * spec.vmsPerHost + qemuVms > MAX_VMS)
    throw bad(`at most ${MAX_VMS} VMs in a lab (namespace and QEMU VMs together)`);
  if (spec.networks.length < 1 || spec.networks.length > OVERLAY_SUBNETS.length) {
    throw bad(`--networks: 1 to ${OVERLAY_SUBNETS.length} networks (one overlay subnet each)`);
  }
  if (spec.etcdNodes !== undefined && spec.etcdNodes !== 1 && spec.etcdNodes !== 3) {
    throw bad(`--etcd-nodes must be 1 or 3 (got ${spec.etcdNodes})`);
  }
  if (spec.etcdNodes === 3 && spec.controlPlane === false) {
    throw bad('--etcd-nodes 3 needs the control plane: drop --no-control-plane');
  }
  if (spec.kernelHosts > 0 && !spec.networks.some((n) => n.encap === 'vxlan')) {
    throw bad('--kernel-hosts needs a vxlan network: the kernel hosts speak VXLAN only');
  }
}
