/**
 * The `workers` benchmark's path: the data-path benchmark's two VMs and two
 * hosts (topologies.ts: same addresses, MTU, VNI and underlay veth), each
 * host switching with a worker-switch process (N data-path workers on a
 * multi-queue TAP and N SO_REUSEPORT VXLAN sockets) instead of dvs-agent.
 * The VM namespace takes the TAP, as a hypervisor would; the workers' queues
 * stay attached to it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerCounters } from '@dvs/agent';
import { LabError } from '../errors.js';
import { BenchResources } from '../datapath-bench/bench-resources.js';
import type { VmPair } from '../datapath-bench/measure.js';
import {
  HOST_ADDRESSES,
  VM_ADDRESSES,
  VM_MTU,
  VNI,
  hostPair,
  vmInterface,
  vmMac,
} from '../datapath-bench/topologies.js';
import type { SwitchConfig } from './worker-switch.js';

const SWITCH_JS = fileURLToPath(new URL('./worker-switch.js', import.meta.url));
const TAP = 'dvbtap';

export interface WorkerPath extends VmPair {
  /** The two worker-switch processes (their /proc/<pid>/stat counts every thread). */
  switchPids: number[];
  /** Each host's worker counters now (SIGUSR2 to each switch; it writes a snapshot). */
  snapshot(): Promise<WorkerCounters[][]>;
  /** Stops everything; resolves with each host's worker counters (written by the switch as it stops). */
  release(): Promise<WorkerCounters[][]>;
}

export async function buildWorkerPath(
  workers: number,
  sourcePorts: 'shared' | 'own',
  signal?: AbortSignal,
): Promise<WorkerPath> {
  const resources = new BenchResources();
  const dir = await mkdtemp(join(tmpdir(), `${resources.tag}-`));
  const countersFiles = [join(dir, 'h0.counters.json'), join(dir, 'h1.counters.json')];
  const logs = [join(dir, 'h0.log'), join(dir, 'h1.log')];
  const release = async (): Promise<WorkerCounters[][]> => {
    await resources.release();
    const counters = countersFiles.map((f) =>
      existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as WorkerCounters[]) : [],
    );
    await rm(dir, { recursive: true, force: true });
    return counters;
  };
  try {
    const vms = [await resources.namespace('va'), await resources.namespace('vb')];
    const hosts = await hostPair(resources);
    const switchPids: number[] = [];
    for (const [i, ns] of hosts.entries()) {
      const config: SwitchConfig = {
        workers,
        tap: TAP,
        vni: VNI,
        mtu: VM_MTU,
        address: HOST_ADDRESSES[i],
        peer: HOST_ADDRESSES[1 - i],
        remoteMac: vmMac(1 - i),
        countersFile: countersFiles[i],
        sourcePorts,
      };
      const child = resources.spawn(ns, [process.execPath, SWITCH_JS, JSON.stringify(config)], logs[i]);
      if (child.pid === undefined)
        throw new LabError('DVS_LAB_COMMAND_FAILED', `could not start worker-switch in ${ns}`);
      switchPids.push(child.pid);
      await waitForReady(logs[i], () => child.exitCode !== null, signal);
      await resources.ip(ns, [`link set ${TAP} netns ${vms[i]}`]);
      await vmInterface(resources, vms[i], TAP, i);
    }
    return {
      name: `${workers} worker${workers === 1 ? '' : 's'}`,
      resources,
      sender: { netns: vms[0], address: VM_ADDRESSES[0], ifname: TAP },
      receiver: { netns: vms[1], address: VM_ADDRESSES[1], ifname: TAP },
      agentLogs: logs,
      switchPids,
      snapshot: () => Promise.all(switchPids.map((pid, i) => snapshotOf(pid, countersFiles[i]))),
      release,
    };
  } catch (err) {
    await release();
    throw err;
  }
}

async function waitForReady(log: string, exited: () => boolean, signal?: AbortSignal): Promise<void> {
  for (let i = 0; ; i++) {
    if (existsSync(log) && /^ready$/m.test(readFileSync(log, 'utf8'))) return;
    if (exited()) throw new LabError('DVS_LAB_COMMAND_FAILED', `worker-switch exited during start (log: ${log})`);
    if (signal?.aborted === true) throw new LabError('DVS_LAB_TIMEOUT', 'aborted while waiting for worker-switch');
    if (i > 300) throw new LabError('DVS_LAB_TIMEOUT', `worker-switch did not get ready (log: ${log})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function snapshotOf(pid: number, countersFile: string): Promise<WorkerCounters[]> {
  const snap = `${countersFile}.snap`;
  rmSync(snap, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    if (existsSync(snap)) return JSON.parse(readFileSync(snap, 'utf8')) as WorkerCounters[];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new LabError('DVS_LAB_TIMEOUT', `worker-switch ${pid} wrote no counters snapshot`);
}
