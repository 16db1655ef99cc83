/**
 * The four paths the data-path benchmark compares. Each is two VMs (network
 * namespaces, 192.0.2.1 and .2, MTU 1450 everywhere so frames are the same
 * size on every path) and, except for the direct veth, two hosts whose
 * underlay is a veth between their namespaces (198.51.100.1 and .2):
 *
 *  - veth: a veth straight between the VMs (the physical ceiling);
 *  - kernel-vxlan: each host runs the kernel's vxlan device + a bridge, the VM
 *    on a veth to the bridge (the reference);
 *  - dvs-vxlan / dvs-gre-udp: each host runs one dvs-agent with static peers
 *    (no etcd, no controller: the data path alone), the VM holds the TAP;
 *  - dvs-kernel: the same agents with `datapath: kernel`: they make and
 *    program the bridge + vxlan device, the VM on a veth the agent attaches
 *    (frames never reach the agent);
 *  - ovs-userspace: a private Open vSwitch per host, userspace (netdev)
 *    datapath, the VM on a veth, a vxlan port to the other host
 *    (ovs-path.ts).
 *
 * No checksum-offload adjustment is needed: no path mixes a kernel VTEP with a
 * dvs agent (that mix is where partial checksums bite; see test/support).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminClient } from '@dvs/admin-client';
import { VXLAN_UDP_PORT } from '@dvs/wire';
import { LabError } from '../errors.js';
import { programs } from '../programs.js';
import { BenchResources } from './bench-resources.js';
import { startOvsHost, vmVethChecksumsOff } from './ovs-path.js';

/**
 * dvs-vxlan-policed: dvs-vxlan with both ports policed in both directions at
 * a rate they never reach (the cost of the token buckets); dvs-vxlan-rspan:
 * dvs-vxlan with every frame of both ports mirrored (both directions) to the
 * other host inside mirror VNI 9999 (the cost of the copies, which cross the
 * underlay and are dropped there as unknown-vni: no analyser port).
 */
export type PathName =
  | 'veth'
  | 'kernel-vxlan'
  | 'dvs-vxlan'
  | 'dvs-gre-udp'
  | 'dvs-kernel'
  | 'dvs-vxlan-policed'
  | 'dvs-vxlan-rspan'
  | 'ovs-userspace';
/** The paths measured unless --only names others. */
export const DEFAULT_PATHS: readonly PathName[] = [
  'veth',
  'kernel-vxlan',
  'dvs-vxlan',
  'dvs-gre-udp',
  'dvs-kernel',
  'dvs-vxlan-policed',
  'dvs-vxlan-rspan',
];
/** Every path; ovs-userspace (ovs-path.ts) only on request (--ovs): it installs Open vSwitch on first use. */
export const PATHS: readonly PathName[] = [...DEFAULT_PATHS, 'ovs-userspace'];
/** Policers that never run dry here: 100 Gbit/s, as deep as allowed. */
const UNREACHED_POLICER = { rate: 100_000_000, burst: 100_000_000 };

export const VM_MTU = 1450;
/** The underlay veth between the two host namespaces (same name on both sides; MTU 1500). */
export const UNDERLAY_IFNAME = 'dvbu';
export const VNI = 100;
export const VM_ADDRESSES = ['192.0.2.1', '192.0.2.2'] as const;
export const HOST_ADDRESSES = ['198.51.100.1', '198.51.100.2'] as const;

/** The MAC of VM `index` (0: the sender, 1: the receiver). */
export function vmMac(index: number): string {
  return `02:00:00:00:0b:0${index + 1}`;
}

export interface BuiltPath {
  name: PathName;
  /** Sender VM (iperf3 client, ping source) and receiver VM, with their NIC. */
  sender: { netns: string; address: string; ifname: string };
  receiver: { netns: string; address: string; ifname: string };
  /** Host namespaces (none for the direct veth). */
  hostNamespaces: string[];
  /** PIDs of the dvs agents on the path (empty for kernel paths). */
  agentPids: number[];
  /** Agent admin sockets and logs (counters; failure messages). */
  agentSockets: string[];
  agentLogs: string[];
  /** Where each agent writes its stage trace at stop (BuildOptions.stageTraceDir), else empty. */
  agentStageTraces: string[];
  resources: BenchResources;
  /** Stops everything the path created; never throws. */
  release(): Promise<void>;
}

export interface BuildOptions {
  /** Extra node options for each dvs-agent (e.g. `--cpu-prof`). */
  agentNodeArgs?: readonly string[];
  /** Where agents run (cwd: `--cpu-prof` writes there). Default: a temp dir removed on release. */
  agentCwd?: string;
  /** The agents' `offloads` (default: the agent's own default). */
  offloads?: 'on' | 'off';
  /** Run each agent with DVS_STAGE_TRACE=<dir>/h<i>.stages.json (the stage trace; written when it stops). */
  stageTraceDir?: string;
  /** Extra `dvs-agent` config fields, merged into both agents' configs (e.g. `busyPollUs`). */
  agentConfig?: Readonly<Record<string, unknown>>;
  signal?: AbortSignal;
}

export async function buildPath(name: PathName, options: BuildOptions = {}): Promise<BuiltPath> {
  const resources = new BenchResources();
  // Namespaces, processes and the path's temp dir (resources.tempDir) go with it.
  const release = () => resources.release();
  try {
    const va = await resources.namespace('va');
    const vb = await resources.namespace('vb');
    const built = (
      ifnames: [string, string],
      hostNamespaces: string[] = [],
      agents: { pids: number[]; sockets: string[]; logs: string[]; traces: string[] } = {
        pids: [],
        sockets: [],
        logs: [],
        traces: [],
      },
    ): BuiltPath => ({
      name,
      sender: { netns: va, address: VM_ADDRESSES[0], ifname: ifnames[0] },
      receiver: { netns: vb, address: VM_ADDRESSES[1], ifname: ifnames[1] },
      hostNamespaces,
      agentPids: agents.pids,
      agentSockets: agents.sockets,
      agentLogs: agents.logs,
      agentStageTraces: agents.traces,
      resources,
      release,
    });
    if (name === 'veth') {
      await resources.ip(va, [`link add dvbv type veth peer name dvbw netns ${vb}`]);
      await vmInterface(resources, va, 'dvbv', 0);
      await vmInterface(resources, vb, 'dvbw', 1);
      return built(['dvbv', 'dvbw']);
    }
    const hosts = await hostPair(resources);
    const vms = [va, vb];
    if (name === 'kernel-vxlan') {
      for (const [i, ns] of hosts.entries()) {
        await resources.ip(ns, [
          'link add dvbbr type bridge stp_state 0 forward_delay 0',
          `link add dvbx type vxlan id ${VNI} local ${HOST_ADDRESSES[i]} remote ${HOST_ADDRESSES[1 - i]} dstport ${VXLAN_UDP_PORT} dev ${UNDERLAY_IFNAME}`,
          `link set dvbx master dvbbr mtu ${VM_MTU} up`,
          `link add dvbh type veth peer name dvbv netns ${vms[i]}`,
          `link set dvbh master dvbbr mtu ${VM_MTU} up`,
          `link set dvbbr mtu ${VM_MTU} up`,
        ]);
        await vmInterface(resources, vms[i], 'dvbv', i);
      }
      return built(['dvbv', 'dvbv'], hosts);
    }
    const dir = resources.tempDir('path');
    if (name === 'ovs-userspace') {
      const pids: number[] = [];
      const logs: string[] = [];
      for (const [i, ns] of hosts.entries()) {
        await resources.ip(ns, [
          `link add dvbh type veth peer name dvbv netns ${vms[i]}`,
          `link set dvbh mtu ${VM_MTU} up`,
        ]);
        const hostDir = join(dir, `h${i}`);
        pids.push(
          await startOvsHost(resources, {
            ns,
            dir: hostDir,
            address: HOST_ADDRESSES[i],
            peer: HOST_ADDRESSES[1 - i],
            vni: VNI,
            vmPort: 'dvbh',
            underlay: UNDERLAY_IFNAME,
            signal: options.signal,
          }),
        );
        logs.push(join(hostDir, 'ovs-vswitchd.log'));
        await vmVethChecksumsOff(resources, vms[i], 'dvbv');
        await vmInterface(resources, vms[i], 'dvbv', i);
      }
      return built(['dvbv', 'dvbv'], hosts, { pids, sockets: [], logs, traces: [] });
    }
    const agents = { pids: [] as number[], sockets: [] as string[], logs: [] as string[], traces: [] as string[] };
    const kernelDatapath = name === 'dvs-kernel';
    for (const [i, ns] of hosts.entries()) {
      if (kernelDatapath) await resources.ip(ns, [`link add dvbh type veth peer name dvbv netns ${vms[i]}`]);
      const socket = join(dir, `h${i}.sock`);
      const config = join(dir, `h${i}.yaml`);
      const log = join(dir, `h${i}.log`);
      await writeFile(
        config,
        JSON.stringify({
          host: `bench-${i === 0 ? 'a' : 'b'}`,
          vtep: { address: HOST_ADDRESSES[i] },
          adminSocket: socket,
          // A bench agent keeps nothing across runs.
          stateFile: null,
          logLevel: 'info',
          logFormat: 'logfmt',
          datapath: kernelDatapath ? 'kernel' : 'userspace',
          ...(options.offloads === undefined ? {} : { offloads: options.offloads }),
          ...options.agentConfig,
          networks: [
            {
              vni: VNI,
              encap: name === 'dvs-gre-udp' ? 'gre-udp' : 'vxlan',
              mtu: VM_MTU,
              peers: [HOST_ADDRESSES[1 - i]],
            },
          ],
          ports: [
            kernelDatapath
              ? { name: 'dvbh', vni: VNI, plug: 'attach' }
              : name === 'dvs-vxlan-policed'
                ? { name: 'dvbtap', vni: VNI, qos: { ingress: UNREACHED_POLICER, egress: UNREACHED_POLICER } }
                : { name: 'dvbtap', vni: VNI },
          ],
          ...(name === 'dvs-vxlan-rspan'
            ? {
                mirrors: [
                  {
                    name: 'bench',
                    sources: ['dvbtap'],
                    direction: 'both',
                    output: { vni: 9999, vtep: { address: HOST_ADDRESSES[1 - i] } },
                  },
                ],
              }
            : {}),
        }),
      );
      const trace = options.stageTraceDir === undefined ? undefined : join(options.stageTraceDir, `h${i}.stages.json`);
      if (trace !== undefined) agents.traces.push(trace);
      const child = resources.spawn(
        ns,
        [process.execPath, ...(options.agentNodeArgs ?? []), programs.agent, '--config', config],
        log,
        options.agentCwd,
        trace === undefined ? undefined : { DVS_STAGE_TRACE: trace },
      );
      if (child.pid === undefined) throw new LabError('DVS_LAB_COMMAND_FAILED', `could not start dvs-agent in ${ns}`);
      agents.pids.push(child.pid);
      agents.sockets.push(socket);
      agents.logs.push(log);
      await waitForAgent(socket, log, () => child.exitCode !== null, options.signal);
      if (kernelDatapath) {
        await vmInterface(resources, vms[i], 'dvbv', i);
        continue;
      }
      // The agent created the TAP in the host; the "VM" takes it, as a hypervisor would.
      await resources.ip(ns, [`link set dvbtap netns ${vms[i]}`]);
      await vmInterface(resources, vms[i], 'dvbtap', i);
    }
    return kernelDatapath ? built(['dvbv', 'dvbv'], hosts, agents) : built(['dvbtap', 'dvbtap'], hosts, agents);
  } catch (e) {
    await release();
    throw e;
  }
}

/** Two host namespaces, ha and hb, joined by the underlay veth UNDERLAY_IFNAME (HOST_ADDRESSES). */
export async function hostPair(resources: BenchResources): Promise<[string, string]> {
  const hosts: [string, string] = [await resources.namespace('ha'), await resources.namespace('hb')];
  await resources.ip(hosts[0], [
    `link add ${UNDERLAY_IFNAME} type veth peer name ${UNDERLAY_IFNAME} netns ${hosts[1]}`,
  ]);
  for (const [i, ns] of hosts.entries()) {
    await resources.ip(ns, [
      `addr add ${HOST_ADDRESSES[i]}/24 dev ${UNDERLAY_IFNAME}`,
      `link set ${UNDERLAY_IFNAME} up`,
    ]);
  }
  return hosts;
}

/** A VM's NIC: MAC 02:00:00:00:0b:0<index+1> (vmMac), VM_MTU, VM_ADDRESSES[index], up. */
export async function vmInterface(resources: BenchResources, ns: string, ifname: string, index: number): Promise<void> {
  await resources.ip(ns, [
    `link set ${ifname} address ${vmMac(index)} mtu ${VM_MTU}`,
    `addr add ${VM_ADDRESSES[index]}/24 dev ${ifname}`,
    `link set ${ifname} up`,
  ]);
}

export async function waitForAgent(
  socket: string,
  log: string,
  exited: () => boolean,
  signal?: AbortSignal,
): Promise<void> {
  const client = new AdminClient(socket);
  try {
    for (let i = 0; ; i++) {
      try {
        await client.call('version', [], { timeoutMs: 1000 });
        return;
      } catch {
        client.close();
        if (exited()) throw new LabError('DVS_LAB_COMMAND_FAILED', `dvs-agent exited during start (log: ${log})`);
        if (signal?.aborted) throw new LabError('DVS_LAB_TIMEOUT', 'aborted while waiting for dvs-agent');
        if (i > 200) throw new LabError('DVS_LAB_TIMEOUT', `dvs-agent did not answer on ${socket} (log: ${log})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    client.close();
  }
}
