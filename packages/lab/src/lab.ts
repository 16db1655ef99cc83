/**
 * A lab: dvs hosts (one agent each), kernel-vxlan hosts and VMs in network
 * namespaces on one machine, with a private etcd and controller when built.
 *
 * `Lab.up()` builds it step by step, recording each creation in the state file
 * first; on any failure (or abort) it tears down what it made before it
 * rethrows. `Lab.open(id)` reattaches to a lab built by another process, and
 * `down()` removes everything the state file lists.
 */
import { runInNamespace, type RunResult } from './command-runner.js';
import { AdminClient } from '@dvs/admin-client';
import { LabError } from './errors.js';
import {
  assertLabId,
  devices,
  dvsHostAddress,
  dvsHostName,
  kernelHostAddress,
  kernelHostName,
  namespaceName,
  randomLabId,
  vmAddress,
  vmMac,
  vmName,
  OVERLAY_SUBNETS,
} from './lab-layout.js';
import { LabRecorder } from './lab-recorder.js';
import { validateLabSpec, type LabSpec } from './lab-spec.js';
import {
  loadLabState,
  newLabState,
  saveLabState,
  type HostState,
  type LabState,
  type QemuVmState,
  type VmState,
} from './lab-state.js';
import { qemuProcesses, teardownLab } from './lab-teardown.js';
import { preflight } from './preflight.js';
import { connectHostToUnderlay, createUnderlay } from './underlay.js';
import { attachKernelVm, createKernelSwitches, setKernelFloodList } from './kernel-host.js';
import { createVmNamespace, quietNamespace } from './vm-interface.js';
import { attachAgentVm, startAgent } from './agent-host.js';
import { registerLabNetworks, startControlPlane } from './control-plane.js';
import { isRecordedProcessAlive } from './process-control.js';
import { isBuilt } from './programs.js';
import { waitForFloodLists } from './table-readiness.js';
import { buildQemuVms, execInGuest } from './lab-qemu.js';

export interface LabUpOptions {
  /** 4 characters a-z0-9; random when absent. */
  id?: string;
  spec: LabSpec;
  /** Called with a short line per build step. */
  onProgress?: (step: string) => void;
  /**
   * Called once for each way the lab falls short (a program not built: no
   * controller, so agents with static peers, …). Default: one line on stderr,
   * never silent.
   */
  onLimitation?: (text: string) => void;
  signal?: AbortSignal;
}

export class Lab {
  readonly state: LabState;
  private readonly admins = new Map<string, AdminClient>();

  private constructor(state: LabState) {
    this.state = state;
  }

  get id(): string {
    return this.state.id;
  }

  static async up(options: LabUpOptions): Promise<Lab> {
    const id = options.id ?? randomLabId();
    assertLabId(id);
    validateLabSpec(options.spec);
    const existing = await loadLabState(id);
    if (existing) {
      throw new LabError('DVS_LAB_EXISTS', `a lab "${id}" is already recorded: run \`dvs lab down --id ${id}\` first`);
    }
    const progress = options.onProgress ?? (() => undefined);
    progress('checking root, programs and kernel features');
    const controlPlane = options.spec.controlPlane !== false && isBuilt('controller');
    const tools = [
      'ping',
      ...(controlPlane ? ['etcd', 'etcdctl'] : []),
      ...(options.spec.etcdTls || options.spec.etcdNodes === 3 ? ['openssl'] : []),
    ];
    await preflight({ labId: id, tools });
    const recorder = new LabRecorder(newLabState(id), options.onLimitation);
    const lab = new Lab(recorder.state);
    try {
      await lab.build(recorder, options.spec, progress, options.signal);
      await recorder.update((s) => (s.phase = 'up'));
      return lab;
    } catch (e) {
      progress(`failed (${(e as Error).message.split('\n')[0]}); tearing down`);
      await recorder.update((s) => (s.phase = 'failed')).catch(() => undefined);
      lab.closeClients();
      await teardownLab(recorder.state);
      throw e;
    }
  }

  /** Reattaches to a recorded lab. */
  static async open(id: string): Promise<Lab> {
    assertLabId(id);
    const state = await loadLabState(id);
    if (!state) throw new LabError('DVS_LAB_NOT_FOUND', `no lab "${id}" is recorded: start one with \`dvs lab up\``);
    return new Lab(state);
  }

  private async build(
    recorder: LabRecorder,
    spec: LabSpec,
    progress: (s: string) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const check = () => {
      if (signal?.aborted) throw new LabError('DVS_LAB_TIMEOUT', 'lab build aborted');
    };
    const id = this.id;
    await recorder.update((s) => {
      if (spec.datapath !== undefined) s.agentDatapath = spec.datapath;
      if (spec.offloads !== undefined) s.agentOffloads = spec.offloads;
      s.networks = spec.networks.map((n, index) => ({
        index,
        vni: n.vni,
        name: n.name ?? `net${index + 1}-${n.encap}`,
        encap: n.encap,
        subnet: OVERLAY_SUBNETS[index],
      }));
    });

    progress('creating the underlay (bridge, 198.51.100.0/24)');
    await createUnderlay(recorder);
    check();

    if (spec.controlPlane !== false) {
      progress('starting etcd and the controller');
      const agentHosts = Array.from({ length: spec.hosts }, (_, i) => dvsHostName(i + 1));
      await startControlPlane(recorder, progress, {
        rbacHosts: spec.etcdAuth ? agentHosts : undefined,
        tlsHosts: spec.etcdTls || spec.etcdNodes === 3 ? agentHosts : undefined,
        etcdNodes: spec.etcdNodes ?? 1,
      });
      check();
    }

    const hosts: HostState[] = [];
    for (let i = 1; i <= spec.hosts; i++) {
      hosts.push({
        name: dvsHostName(i),
        kind: 'dvs',
        netns: namespaceName(id, dvsHostName(i)),
        underlayAddress: dvsHostAddress(i),
      });
    }
    for (let j = 1; j <= spec.kernelHosts; j++) {
      const name = kernelHostName(j);
      hosts.push({ name, kind: 'kernel', netns: namespaceName(id, name), underlayAddress: kernelHostAddress(j) });
    }
    for (const host of hosts) {
      progress(`host ${host.name} (${host.kind === 'dvs' ? 'dvs agent' : 'kernel vxlan'}) at ${host.underlayAddress}`);
      await recorder.update((s) => s.hosts.push(host));
      await recorder.createNamespace(host.netns);
      await quietNamespace(host.netns);
      await connectHostToUnderlay(id, host.name, host.netns, host.underlayAddress);
      if (host.kind === 'kernel') await createKernelSwitches(id, host, recorder.state.networks);
      check();
    }
    const dvsHosts = hosts.filter((h) => h.kind === 'dvs');
    // With a control plane the agents follow etcd (no static peers); without one, startControlPlane said why.
    if (recorder.state.controller && dvsHosts.length > 0) await recorder.update((s) => (s.agentsUseEtcd = true));
    if (dvsHosts.length > 0) {
      progress(`starting ${dvsHosts.length} agent(s)`);
      await Promise.all(dvsHosts.map((h) => startAgent(recorder, h)));
      check();
    }
    if (recorder.state.controller) await registerLabNetworks(recorder, progress);

    let n = 0;
    const vxlanNetworks = recorder.state.networks.filter((x) => x.encap === 'vxlan');
    for (const host of hosts) {
      const choices = host.kind === 'kernel' ? vxlanNetworks : recorder.state.networks;
      for (let k = 0; k < spec.vmsPerHost; k++) {
        n++;
        const network = choices[k % choices.length];
        const { address, prefixLength } = vmAddress(network.index, n);
        const vm: VmState = {
          name: vmName(n),
          number: n,
          netns: namespaceName(id, vmName(n)),
          host: host.name,
          vni: network.vni,
          mac: vmMac(id, n),
          address,
          prefixLength,
          ifname: '',
          generation: 0,
        };
        progress(`VM ${vm.name} on ${host.name}: ${vm.address} ${vm.mac} (VNI ${vm.vni})`);
        await recorder.update((s) => s.vms.push(vm));
        await createVmNamespace(recorder, vm.netns);
        if (host.kind === 'kernel') {
          await attachKernelVm(id, host, vm);
          await recorder.update(() => (vm.ifname = devices.vmVeth(id, vm.number)));
        } else {
          await attachAgentVm(recorder, host, vm, this.admin(host.name));
        }
        check();
      }
    }

    const qemuVms = spec.qemuVms ?? 0;
    if (qemuVms > 0) {
      await buildQemuVms(recorder, qemuVms, (h) => this.admin(h), progress, signal);
      check();
    }

    for (const host of hosts.filter((h) => h.kind === 'kernel')) {
      for (const network of vxlanNetworks) {
        await setKernelFloodList(
          id,
          host,
          network.vni,
          hosts.map((h) => h.underlayAddress),
        );
      }
    }

    if (dvsHosts.length > 0) {
      progress("waiting until every agent's flood lists are complete");
      const missing = await waitForFloodLists(recorder.state, (h) => this.admin(h), { signal });
      if (missing.length > 0) {
        const why = `flood lists still incomplete after 15 s (${missing.join('; ')}): expect failed pings`;
        progress(why);
        await recorder.noteLimitation(why);
      }
    }
  }

  host(name: string): HostState {
    const h = this.state.hosts.find((x) => x.name === name);
    if (!h)
      throw new LabError(
        'DVS_LAB_BAD_SPEC',
        `no host "${name}" in lab ${this.id} (hosts: ${this.state.hosts.map((x) => x.name).join(', ')})`,
      );
    return h;
  }

  vm(name: string): VmState {
    const v = this.state.vms.find((x) => x.name === name);
    if (!v)
      throw new LabError(
        'DVS_LAB_BAD_SPEC',
        `no VM "${name}" in lab ${this.id} (VMs: ${this.state.vms.map((x) => x.name).join(', ')})`,
      );
    return v;
  }

  /** The lab's QEMU VMs (`lab up --qemu-vms N`). */
  get qemuVms(): QemuVmState[] {
    return this.state.qemuVms ?? [];
  }

  qemuVm(name: string): QemuVmState {
    const v = this.qemuVms.find((x) => x.name === name);
    if (!v)
      throw new LabError(
        'DVS_LAB_BAD_SPEC',
        `no QEMU VM "${name}" in lab ${this.id} (QEMU VMs: ${this.qemuVms.map((x) => x.name).join(', ') || 'none'})`,
      );
    return v;
  }

  /** Namespace of a host or namespace VM by its lab name (h1, k1, vm3, ul); a QEMU VM has none (see exec()). */
  namespaceOf(name: string): string {
    if (name === 'ul' || name === 'underlay') return namespaceName(this.id, 'ul');
    const h = this.state.hosts.find((x) => x.name === name);
    if (h) return h.netns;
    return this.vm(name).netns;
  }

  /** The admin-socket client of a dvs host's agent (one connection, reused). */
  admin(hostName: string): AdminClient {
    const host = this.host(hostName);
    if (host.kind !== 'dvs' || !host.adminSocket) {
      throw new LabError('DVS_LAB_BAD_SPEC', `${hostName} is not a dvs host (no agent admin socket)`);
    }
    let c = this.admins.get(hostName);
    if (!c) {
      c = new AdminClient(host.adminSocket);
      this.admins.set(hostName, c);
    }
    return c;
  }

  /** Runs a command in a host's or a namespace VM's namespace, or in a QEMU guest over its console. */
  exec(
    name: string,
    argv: readonly string[],
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<RunResult> {
    const qemu = this.qemuVms.find((v) => v.name === name);
    if (qemu) return execInGuest(qemu, argv, options);
    return runInNamespace(this.namespaceOf(name), argv, { ...options, allowFailure: true });
  }

  async save(): Promise<void> {
    await saveLabState(this.state);
  }

  /** Processes recorded by the lab (its QEMUs too) and whether each still runs. */
  async processStatus(): Promise<Array<{ role: string; name: string; pid: number; alive: boolean; logFile: string }>> {
    return Promise.all(
      [...qemuProcesses(this.state), ...this.state.processes].map(async (p) => ({
        role: p.role,
        name: p.name,
        pid: p.pid,
        alive: await isRecordedProcessAlive(p),
        logFile: p.logFile,
      })),
    );
  }

  closeClients(): void {
    for (const c of this.admins.values()) c.close();
    this.admins.clear();
  }

  /** Removes everything the lab recorded. Returns problems met (empty when clean). */
  async down(options: { keepLogs?: boolean } = {}): Promise<string[]> {
    this.closeClients();
    return teardownLab(this.state, options);
  }
}
