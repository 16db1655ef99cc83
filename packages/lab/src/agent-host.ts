/**
 * A dvs host: one `dvs-agent` in the host namespace, started as
 *   ip netns exec <host> node packages/agent/dist/src/main.js --config <file>
 * with its admin socket in the lab directory (a unix socket is a file, so the
 * lab reaches it from the root namespace). VMs are attached the way a
 * hypervisor would: the agent creates the TAP (`ports/add`), then the lab moves
 * it into the VM's namespace and gives it the VM's MAC and address.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AdminClient } from '@dvs/admin-client';
import type { AgentPortView } from '@dvs/agent';
import { DEFAULT_OVERLAY_MTU, type PortPlug } from '@dvs/wire';
import { ipBatch } from './command-runner.js';
import { LabError } from './errors.js';
import { devices } from './lab-layout.js';
import type { LabRecorder } from './lab-recorder.js';
import { labDir, type HostState, type LabState, type VmState } from './lab-state.js';
import { isBuilt, netdevAddonBuilt, programs } from './programs.js';
import { configureVmInterface, moveIntoVm } from './vm-interface.js';
import { isRecordedProcessAlive, logTail } from './process-control.js';

/**
 * The agent's config (JSON is YAML, so the agent's YAML loader reads it).
 * Static peers are listed only when the lab runs without a controller.
 */
export function agentConfig(state: LabState, host: HostState, adminSocket: string): Record<string, unknown> {
  const withController = state.agentsUseEtcd === true;
  const others = state.hosts.filter((h) => h.name !== host.name);
  return {
    host: host.name,
    vtep: { address: host.underlayAddress },
    adminSocket,
    // Run-time ports (attached QEMU TAPs) survive an agent restart, in the lab's directory.
    stateFile: join(labDir(state.id), `${host.name}-agent-state.json`),
    logLevel: 'info',
    logFormat: 'logfmt',
    datapath: state.agentDatapath ?? 'userspace',
    ...(state.agentOffloads === undefined ? {} : { offloads: state.agentOffloads }),
    networks: state.networks.map((n) => ({
      vni: n.vni,
      name: n.name,
      encap: n.encap,
      mtu: DEFAULT_OVERLAY_MTU,
      // Static peers only without a controller: otherwise the flood lists come from etcd.
      peers: withController
        ? []
        : others.filter((h) => h.kind === 'dvs' || n.encap === 'vxlan').map((h) => h.underlayAddress),
    })),
    ...(withController
      ? {
          etcd: {
            endpoints: state.etcd?.endpoints ?? [],
            prefix: '/dvs/v1/',
            // Under RBAC each agent is its own user (deploy/etcd/dvs-rbac.sh): by its
            // certificate's CN with TLS, by a password login otherwise.
            ...(state.etcd?.tls
              ? {
                  caFile: state.etcd.tls.ca,
                  certFile: join(state.etcd.tls.dir, `agent-${host.name}.pem`),
                  keyFile: join(state.etcd.tls.dir, `agent-${host.name}-key.pem`),
                }
              : state.etcdCredentials?.agents[host.name] !== undefined
                ? { username: `agent-${host.name}`, password: state.etcdCredentials.agents[host.name] }
                : {}),
          },
        }
      : {}),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startAgent(recorder: LabRecorder, host: HostState): Promise<void> {
  if (!isBuilt('agent')) {
    throw new LabError(
      'DVS_LAB_UNAVAILABLE',
      `dvs-agent is not built (${programs.agent} missing): build it, or use --hosts 0 --kernel-hosts K for a kernel-only lab`,
    );
  }
  if (!netdevAddonBuilt()) {
    throw new LabError(
      'DVS_LAB_UNAVAILABLE',
      'the netdev native addon is not built: the agent cannot open TAPs; run scripts/bootstrap.sh',
    );
  }
  const dir = labDir(recorder.state.id);
  const adminSocket = join(dir, `${host.name}.sock`);
  const configFile = join(dir, `${host.name}-agent.yaml`);
  await writeFile(configFile, JSON.stringify(agentConfig(recorder.state, host, adminSocket), null, 2) + '\n', {
    mode: 0o600,
  });
  await recorder.update(() => {
    host.adminSocket = adminSocket;
    host.configFile = configFile;
  });
  const p = await recorder.spawn({
    role: 'agent',
    name: host.name,
    argv: ['ip', 'netns', 'exec', host.netns, process.execPath, programs.agent, '--config', configFile],
    logFile: join(dir, `${host.name}-agent.log`),
  });
  // Ready when the admin socket answers.
  const client = new AdminClient(adminSocket);
  try {
    for (let i = 0; ; i++) {
      try {
        await client.call('version', [], { timeoutMs: 1000 });
        return;
      } catch (e) {
        if (!(await isRecordedProcessAlive(p))) {
          throw new LabError(
            'DVS_LAB_COMMAND_FAILED',
            `agent on ${host.name} exited; its log:\n${await logTail(p.logFile)}`,
            {
              cause: e,
            },
          );
        }
        if (i > 200) throw new LabError('DVS_LAB_TIMEOUT', `agent on ${host.name} did not answer on ${adminSocket}`);
        client.close();
        await sleep(50);
      }
    }
  } finally {
    client.close();
  }
}

/**
 * Plugs a device into the host's agent in one call (`ports/add <name> <vni> <plug>`):
 * `create` (default) a TAP the agent makes, for a namespace VM; `attach` an
 * existing device such as the TAP a QEMU VM holds (QEMU started with
 * `-netdev tap,ifname=<name>,script=no,downscript=no` in the host's
 * namespace), a veth end or a macvlan. An attached port is kept in the
 * agent's state file (it survives an agent restart), goes `gone` when QEMU
 * quits and comes back when a TAP of its name does. Rejects with the agent's
 * coded error (AdminCallError: DVS_NO_DEVICE, DVS_CONFLICT, …); resolves with
 * the port's view (kind, deviceKind, state, mtu, mtuWarning, …).
 */
export async function addAgentPort(
  admin: AdminClient,
  name: string,
  vni: number,
  plug: PortPlug = 'create',
): Promise<AgentPortView> {
  return (await admin.call('ports/add', [name, String(vni), plug])).data as AgentPortView;
}

/** Unplugs a port (`ports/del`): a created TAP goes, an attached device is left to its owner. */
export async function removeAgentPort(admin: AdminClient, name: string): Promise<void> {
  await admin.call('ports/del', [name]);
}

/** Attaches a VM to its host's agent: new NIC in the VM (plugVmNic), MAC + address set. */
export async function attachAgentVm(
  recorder: LabRecorder,
  host: HostState,
  vm: VmState,
  admin: AdminClient,
): Promise<void> {
  const tap = devices.vmTap(recorder.state.id, vm.number, vm.generation);
  await plugVmNic(recorder.state, host, vm, admin, tap);
  await configureVmInterface(vm, tap);
  await recorder.update(() => (vm.ifname = tap));
}

/**
 * Gives the VM a NIC named `ifname` plugged into the host's agent. Userspace
 * datapath: a TAP the agent creates, moved into the VM. Kernel datapath: a
 * veth whose VM end goes into the VM and whose host end (of the same name)
 * the agent attaches, so the kernel enslaves it to the VNI's bridge.
 */
export async function plugVmNic(
  state: LabState,
  host: HostState,
  vm: VmState,
  admin: AdminClient,
  ifname: string,
): Promise<void> {
  if (state.agentDatapath === 'kernel') {
    await ipBatch(host.netns, [
      `link add ${ifname} type veth peer name ${ifname} netns ${vm.netns}`,
      `link set ${ifname} mtu ${DEFAULT_OVERLAY_MTU}`,
    ]);
    await addAgentPort(admin, ifname, vm.vni, 'attach');
    return;
  }
  await addAgentPort(admin, ifname, vm.vni);
  await moveIntoVm(host.netns, ifname, vm.netns);
}
