/**
 * The four paths the data-path benchmark compares, each two VMs on the same
 * kind of lab underlay: a direct veth between the VMs (the physical ceiling),
 * the kernel's vxlan device + bridge (the reference), dvs VXLAN and dvs
 * GRE-in-UDP. Every one is a recorded lab, so `dvs lab down --id` removes it
 * even if the benchmark dies.
 */
import { ipBatch } from '../src/command-runner.js';
import { Lab } from '../src/lab.js';
import { devices, namespaceName, randomLabId, vmAddress, vmMac } from '../src/lab-layout.js';
import { LabRecorder } from '../src/lab-recorder.js';
import { newLabState, type LabState } from '../src/lab-state.js';
import { teardownLab } from '../src/lab-teardown.js';
import { OVERLAY_MTU, quietNamespace } from '../src/vm-interface.js';

export type TopologyName = 'veth' | 'kernel-vxlan' | 'dvs-vxlan' | 'dvs-gre-udp';
export const TOPOLOGIES: readonly TopologyName[] = ['veth', 'kernel-vxlan', 'dvs-vxlan', 'dvs-gre-udp'];

export interface Topology {
  name: TopologyName;
  labId: string;
  /** Namespace and address of the sending and the receiving VM. */
  a: { netns: string; address: string };
  b: { netns: string; address: string };
  /** dvs agents on the path (their CPU time is measured). */
  agentPids: number[];
  down(): Promise<void>;
}

async function vethPair(): Promise<Topology> {
  const id = randomLabId();
  const recorder = new LabRecorder(newLabState(id));
  const state: LabState = recorder.state;
  const nsA = namespaceName(id, 'vm1');
  const nsB = namespaceName(id, 'vm2');
  try {
    for (const ns of [nsA, nsB]) {
      await recorder.createNamespace(ns);
      await quietNamespace(ns);
    }
    const ifA = devices.vmVeth(id, 1);
    const ifB = devices.vmVeth(id, 2);
    const a = vmAddress(0, 1);
    const b = vmAddress(0, 2);
    await ipBatch(nsA, [
      `link add ${ifA} type veth peer name ${ifB} netns ${nsB}`,
      `link set ${ifA} address ${vmMac(id, 1)} mtu ${OVERLAY_MTU}`,
      `addr add ${a.address}/${a.prefixLength} dev ${ifA}`,
      `link set ${ifA} up`,
    ]);
    await ipBatch(nsB, [
      `link set ${ifB} address ${vmMac(id, 2)} mtu ${OVERLAY_MTU}`,
      `addr add ${b.address}/${b.prefixLength} dev ${ifB}`,
      `link set ${ifB} up`,
    ]);
    await recorder.update((s) => (s.phase = 'up'));
    return {
      name: 'veth',
      labId: id,
      a: { netns: nsA, address: a.address },
      b: { netns: nsB, address: b.address },
      agentPids: [],
      down: async () => void (await teardownLab(state)),
    };
  } catch (e) {
    await teardownLab(state);
    throw e;
  }
}

async function twoHostLab(name: TopologyName): Promise<Topology> {
  const kernel = name === 'kernel-vxlan';
  const lab = await Lab.up({
    spec: {
      hosts: kernel ? 0 : 2,
      kernelHosts: kernel ? 2 : 0,
      vmsPerHost: 1,
      networks: [{ vni: 100, encap: name === 'dvs-gre-udp' ? 'gre-udp' : 'vxlan' }],
      // The data path alone: static peers, no etcd or controller competing for the CPU.
      controlPlane: false,
    },
  });
  const [a, b] = lab.state.vms;
  return {
    name,
    labId: lab.id,
    a: { netns: a.netns, address: a.address },
    b: { netns: b.netns, address: b.address },
    agentPids: lab.state.processes.filter((p) => p.role === 'agent').map((p) => p.pid),
    down: async () => void (await lab.down()),
  };
}

export function buildTopology(name: TopologyName): Promise<Topology> {
  return name === 'veth' ? vethPair() : twoHostLab(name);
}
