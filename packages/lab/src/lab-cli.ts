/**
 * `dvs lab …` as a commander program. The CLI mounts it with
 * `program.addCommand(createLabCommand())`; `node dist/src/lab-main.js` runs it
 * on its own. Exit codes: 0 ok, 1 a problem found (ping matrix not as expected,
 * a step failed), 2 usage error.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isLabError, LabError } from './errors.js';
import { Lab } from './lab.js';
import { ENCAPS, type Encap } from '@dvs/wire';
import { parseNetworks, type LabSpec } from './lab-spec.js';
import { listLabIds, loadLabState } from './lab-state.js';
import { teardownLab } from './lab-teardown.js';
import { labStatus, renderLabStatus } from './lab-status.js';
import { renderPingMatrix, runPingMatrix } from './ping-matrix.js';
import { migrateVm } from './migration.js';
import { migrateQemuVm } from './lab-qemu-migration.js';
import { renderMigrationReport } from './migration-report.js';
import { ContinuousPing } from './continuous-ping.js';
import { teardownOnSignal } from './signal-teardown.js';
import { setHostUnderlayLink } from './underlay.js';

export const DEFAULT_LAB_ID = 'main';

const labId = (): string => process.env.DVS_LAB_ID ?? DEFAULT_LAB_ID;

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return n;
}

function idOption(): Option {
  return new Option('--id <id>', 'lab id (4 characters a-z0-9)').env('DVS_LAB_ID').default(labId());
}

/** Runs an action, turning LabErrors into a message and exit code instead of a stack trace. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>) {
  return async (...args: A) => {
    try {
      process.exitCode = (await fn(...args)) ?? 0;
    } catch (e) {
      if (isLabError(e)) {
        console.error(`dvs lab: ${e.message}`);
        process.exitCode = e.code === 'DVS_LAB_BAD_SPEC' ? 2 : 1;
        return;
      }
      console.error(`dvs lab: ${(e as Error).message}`);
      process.exitCode = 1;
    }
  };
}

export function createLabCommand(name = 'lab'): Command {
  const lab = new Command(name).description(
    'network-namespace lab: hosts, VMs, agents, etcd and a controller on one machine',
  );

  lab
    .command('up')
    .description('build a lab (needs root)')
    .addOption(idOption())
    .option('--hosts <n>', 'dvs hosts (one agent each)', count, 2)
    .option('--vms <m>', 'VMs per host', count, 2)
    .addOption(new Option('--encap <encap>', 'encap of networks listed without one').choices(ENCAPS).default('vxlan'))
    .option('--networks <list>', 'networks as vni[:encap],… e.g. 100:vxlan,200:gre-udp (default: 100)')
    .option('--kernel-hosts <k>', 'extra hosts running the kernel vxlan device + bridge', count, 0)
    .option(
      '--qemu-vms <n>',
      'real QEMU VMs in total, attached by the agents: each dvs host in turn takes one per network',
      count,
      0,
    )
    .option('--no-control-plane', 'no etcd/controller: agents use static peers')
    .option(
      '--etcd-auth',
      "etcd with authentication and dvs's RBAC roles, one identity per host (deploy/etcd/dvs-rbac.sh)",
    )
    .option(
      '--etcd-tls',
      'etcd over TLS with client certificates (deploy/etcd/make-certs.sh); with --etcd-auth the CN is the user',
    )
    .option(
      '--etcd-nodes <n>',
      'etcd members: 1, or 3 each in its own namespace with TLS between peers and to clients',
      count,
      1,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  dvs lab up --hosts 3 --vms 2 --networks 100:vxlan,200:gre-udp --kernel-hosts 1\n  dvs lab up --id t1 --hosts 2 --vms 1 --encap gre-udp\n  dvs lab up --hosts 3 --vms 1 --qemu-vms 2 --networks 100:vxlan,200:gre-udp',
    )
    .action(
      action(
        async (o: {
          id: string;
          hosts: number;
          vms: number;
          encap: Encap;
          networks?: string;
          kernelHosts: number;
          qemuVms: number;
          controlPlane: boolean;
          etcdAuth?: boolean;
          etcdTls?: boolean;
          etcdNodes: number;
        }) => {
          const spec: LabSpec = {
            hosts: o.hosts,
            vmsPerHost: o.vms,
            networks: parseNetworks(o.networks, o.encap),
            kernelHosts: o.kernelHosts,
            qemuVms: o.qemuVms,
            controlPlane: o.controlPlane,
            etcdAuth: o.etcdAuth === true,
            etcdTls: o.etcdTls === true,
            etcdNodes: o.etcdNodes,
          };
          const uninstall = teardownOnSignal(o.id);
          try {
            const built = await Lab.up({ id: o.id, spec, onProgress: (s) => console.log(`  ${s}`) });
            built.closeClients();
            const idArg = o.id === DEFAULT_LAB_ID ? '' : ` --id ${o.id}`;
            console.log(
              `lab ${o.id} is up: \`dvs lab status${idArg}\`, \`dvs lab ping${idArg}\`, \`dvs lab down${idArg}\``,
            );
            const first = built.state.hosts.find((h) => h.kind === 'dvs')?.name ?? 'h1';
            console.log(
              built.state.controller
                ? `its views: \`dvs --lab ${o.id} status\`, \`dvs --lab ${o.id} tunnels\`, \`dvs --lab ${o.id}/${first} agent ports\``
                : `its views: \`dvs --lab ${o.id}/${first} agent ports\`, \`dvs --lab ${o.id}/${first} agent fdb\` (no controller)`,
            );
          } finally {
            uninstall();
          }
        },
      ),
    );

  lab
    .command('down')
    .description('remove everything a lab created (works after a crash: it reads the state file)')
    .addOption(idOption())
    .option('--all', 'every recorded lab')
    .action(
      action(async (o: { id: string; all?: boolean }) => {
        const ids = o.all ? await listLabIds() : [o.id];
        let problems = 0;
        for (const id of ids) {
          const state = await loadLabState(id);
          if (!state) {
            if (!o.all) throw new LabError('DVS_LAB_NOT_FOUND', `no lab "${id}" is recorded`);
            continue;
          }
          const left = await teardownLab(state);
          problems += left.length;
          for (const p of left) console.error(`  could not remove: ${p}`);
          console.log(`lab ${id} removed`);
        }
        return problems ? 1 : 0;
      }),
    );

  lab
    .command('status')
    .description('hosts, VMs, networks and processes of a lab')
    .addOption(idOption())
    .option('--json', 'JSON output')
    .action(
      action(async (o: { id: string; json?: boolean }) => {
        const l = await Lab.open(o.id);
        const st = await labStatus(l);
        console.log(o.json ? JSON.stringify(st, null, 2) : renderLabStatus(st));
        return st.processes.every((p) => p.alive) ? 0 : 1;
      }),
    );

  lab
    .command('exec')
    .description('run a command in a host or VM namespace (h1, k1, vm3, ul)')
    .addOption(idOption())
    .argument('<name>', 'host or VM')
    .argument('<command...>', 'command and arguments (after --)')
    .addHelpText('after', '\nExamples:\n  dvs lab exec vm1 -- ping -c 3 192.0.2.13\n  dvs lab exec h1 -- ip -br link')
    .action(
      action(async (name: string, command: string[], o: { id: string }) => {
        const l = await Lab.open(o.id);
        const r = await l.exec(name, command, { timeoutMs: 24 * 3600_000 });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        return r.code;
      }),
    );

  lab
    .command('ping')
    .description('ping every VM from every VM: reachable within a VNI, isolated across VNIs')
    .addOption(idOption())
    .option('--json', 'JSON output')
    .action(
      action(async (o: { id: string; json?: boolean }) => {
        const l = await Lab.open(o.id);
        const m = await runPingMatrix(l);
        console.log(o.json ? JSON.stringify(m, null, 2) : renderPingMatrix(l, m));
        return m.ok ? 0 : 1;
      }),
    );

  lab
    .command('migrate')
    .description(
      'live-migrate a VM to another dvs host: a QEMU VM (qvm<k>) for real (QEMU -incoming on the destination, QMP, QEMU announces itself); a namespace VM QEMU style (same MAC and address, RARP announce)',
    )
    .addOption(idOption())
    .argument('<vm>', 'VM to move (vm<n> or qvm<k>)')
    .argument('<host>', 'destination host')
    .option(
      '--ping-from <vm>',
      'measure with a continuous 10 ms ping from this namespace VM (default: another VM of the VNI)',
    )
    .option('--json', 'JSON output')
    .action(
      action(async (vmName: string, host: string, o: { id: string; pingFrom?: string; json?: boolean }) => {
        const l = await Lab.open(o.id);
        try {
          const qemu = l.qemuVms.find((v) => v.name === vmName);
          const vm = qemu ?? l.vm(vmName);
          const source =
            o.pingFrom ?? l.state.vms.find((v) => v.vni === vm.vni && v.name !== vm.name && v.host !== host)?.name;
          let ping: ContinuousPing | undefined;
          try {
            if (source) {
              ping = new ContinuousPing(l.vm(source).netns, vm.address);
              await ping.waitForReplies(100);
            }
            const report = qemu
              ? await migrateQemuVm(l, vmName, host, { ping })
              : await migrateVm(l, vmName, host, { ping });
            await ping?.stop();
            console.log(o.json ? JSON.stringify(report, null, 2) : renderMigrationReport(report));
            return report.agentsConvergedMs === null || report.oldHostHoldsMac ? 1 : 0;
          } finally {
            await ping?.stop();
          }
        } finally {
          l.closeClients();
        }
      }),
    );

  lab
    .command('link')
    .description("take a host's underlay link down or up (a broken tunnel path, for tunnel health)")
    .addOption(idOption())
    .argument('<host>', 'host (h1, k1, …)')
    .argument('<state>', 'down or up')
    .action(
      action(async (hostName: string, state: string, o: { id: string }) => {
        if (state !== 'down' && state !== 'up') {
          throw new LabError('DVS_LAB_BAD_SPEC', `link state must be down or up (got "${state}")`);
        }
        const l = await Lab.open(o.id);
        l.host(hostName);
        await setHostUnderlayLink(l.id, hostName, state === 'up');
        console.log(`${hostName}: underlay link ${state}`);
      }),
    );

  lab
    .command('list')
    .description('ids of the labs recorded on this machine')
    .action(
      action(async () => {
        for (const id of await listLabIds()) {
          const s = await loadLabState(id);
          console.log(`${id}  ${s?.phase ?? '?'}  ${s?.hosts.length ?? 0} hosts  ${s?.vms.length ?? 0} VMs`);
        }
      }),
    );
  return lab;
}
