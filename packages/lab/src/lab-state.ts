/**
 * The lab's record of everything it created, written before each thing is
 * created (so a crash between "recorded" and "created" only costs `down` a
 * harmless "not found"). `down` works from this file alone, so it also cleans
 * up after a process that died without its finally blocks.
 *
 * Location: /run/dvs-lab/<id>/state.json (tmpfs: a reboot clears the lab, and
 * its namespaces and processes, together), or $DVS_LAB_DIR/<id>/.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Encap } from '@dvs/wire';
import type { LabApiCredentials } from './api-credentials.js';
import type { QemuVmRecord } from './qemu/qemu-vm.js';

export const LAB_STATE_VERSION = 1;

export function labRootDir(): string {
  return process.env.DVS_LAB_DIR ?? '/run/dvs-lab';
}

export function labDir(labId: string): string {
  return join(labRootDir(), labId);
}

export interface RecordedProcess {
  role: 'etcd' | 'controller' | 'agent' | 'forwarder' | 'qemu';
  /** Host name for agents; the role otherwise. */
  name: string;
  pid: number;
  /** /proc/<pid>/stat start time (clock ticks since boot): guards against killing a recycled pid. */
  startTime: number;
  logFile: string;
}

export interface NetworkState {
  index: number;
  vni: number;
  name: string;
  encap: Encap;
  subnet: string;
}

export interface HostState {
  name: string;
  kind: 'dvs' | 'kernel';
  netns: string;
  underlayAddress: string;
  /** dvs hosts: the agent's admin socket and config file. */
  adminSocket?: string;
  configFile?: string;
}

export interface VmState {
  name: string;
  number: number;
  netns: string;
  host: string;
  vni: number;
  mac: string;
  address: string;
  prefixLength: number;
  /** The VM's interface inside its namespace (a TAP on dvs hosts, a veth on kernel hosts). */
  ifname: string;
  /** Migration generation: names the next TAP. */
  generation: number;
}

/**
 * A real QEMU VM (lab-qemu.ts): QEMU runs in its host's namespace and holds
 * its TAP there; the host's agent attaches the TAP (port kind `attach`).
 */
export interface QemuVmState {
  /** `qvm<k>`. */
  name: string;
  /** k: names its TAPs (`devices.qemuTap`). */
  index: number;
  /** VM number in the lab's plan (after the namespace VMs): address and MAC. */
  number: number;
  host: string;
  vni: number;
  mac: string;
  address: string;
  prefixLength: number;
  /** The guest NIC's MTU (virtio-net host_mtu) and its TAP's: the network's overlay MTU. */
  mtu: number;
  /** The TAP QEMU holds on its host; each migration makes a new one (`generation`). */
  tap: string;
  generation: number;
  /** The QEMU that runs the VM: pid, start time, run folder (QMP and console sockets, logs). */
  qemu: QemuVmRecord;
  /** A destination QEMU waiting for this VM's migration (`-incoming`), until the switchover. */
  incoming?: QemuVmRecord;
}

/** One member of the lab's etcd cluster. */
export interface EtcdMember {
  name: string;
  /** Its name on the underlay (device names). */
  host: string;
  netns: string;
  address: string;
}

/** Passwords of the lab's etcd users when authentication is on (state file is mode 0600). */
export interface EtcdCredentials {
  root: string;
  controller: string;
  /**
   * Each host's own password (user agent-<host>), made by deploy/etcd/dvs-rbac.sh;
   * empty with TLS, where each host logs in by its certificate alone.
   */
  agents: Record<string, string>;
}

export interface LabState {
  version: typeof LAB_STATE_VERSION;
  id: string;
  createdAt: string;
  /** Pid of the process that built the lab (informational). */
  builderPid: number;
  phase: 'building' | 'up' | 'failed' | 'tearing-down';
  namespaces: string[];
  processes: RecordedProcess[];
  networks: NetworkState[];
  hosts: HostState[];
  vms: VmState[];
  /** Real QEMU VMs (`lab up --qemu-vms N`); absent in labs recorded before they existed. */
  qemuVms?: QemuVmState[];
  /** Controller API, reachable from the lab process through a unix socket forwarder. */
  controller?: { url: string; socketPath?: string; api?: LabApiCredentials };
  etcd?: {
    endpoints: string[];
    dataDir: string;
    /** TLS with client certificates: the lab's PKI (deploy/etcd/make-certs.sh). */
    tls?: { dir: string; ca: string; serverCert: string; serverKey: string };
    /** A 3-node cluster (`--etcd-nodes 3`): its members. */
    members?: EtcdMember[];
  };
  etcdCredentials?: EtcdCredentials;
  /** Agents follow etcd (controller tables); false: static peers from their config. */
  agentsUseEtcd?: boolean;
  /** The agents' datapath (LabSpec.datapath); absent: userspace. */
  agentDatapath?: 'userspace' | 'kernel';
  /** The agents' offloads (LabSpec.offloads); absent: the agent's default. */
  agentOffloads?: 'on' | 'off';
  /** What the lab could not do with the parts of dvs built so far, said plainly. */
  limitations: string[];
}

export function newLabState(id: string): LabState {
  return {
    version: LAB_STATE_VERSION,
    id,
    createdAt: new Date().toISOString(),
    builderPid: process.pid,
    phase: 'building',
    namespaces: [],
    processes: [],
    networks: [],
    hosts: [],
    vms: [],
    qemuVms: [],
    limitations: [],
  };
}

let writeCounter = 0;

/** Writes state.json atomically (write + rename); concurrent writers each use their own temp file. */
export async function saveLabState(state: LabState): Promise<void> {
  const dir = labDir(state.id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `state.json.${process.pid}.${writeCounter++}.tmp`);
  await writeFile(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, join(dir, 'state.json'));
}

/** Reads a lab's state, or null when no such lab is recorded. */
export async function loadLabState(labId: string): Promise<LabState | null> {
  let text: string;
  try {
    text = await readFile(join(labDir(labId), 'state.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const state = JSON.parse(text) as LabState;
  if (state.version !== LAB_STATE_VERSION) {
    throw new Error(`${join(labDir(labId), 'state.json')}: unknown state version ${String(state.version)}`);
  }
  return state;
}

export async function removeLabDir(labId: string): Promise<void> {
  await rm(labDir(labId), { recursive: true, force: true });
}

/** Ids of every lab recorded under the lab root directory. */
export async function listLabIds(): Promise<string[]> {
  try {
    const entries = await readdir(labRootDir(), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}
