/**
 * Undoes a lab from its state file alone: QEMU VMs first (each recorded QEMU,
 * a migration's waiting destination too, by pid and start time), then the
 * lab's processes (agents close the
 * TAPs they created), then whatever else still runs inside the lab's
 * namespaces (`ip netns pids`), then namespaces (which take their veths, bridges and
 * vxlan devices with them), then anything left that carries the lab's prefix
 * (a namespace recorded by a crashed writer, a device in the root namespace),
 * then the state directory. Every step tolerates "already gone".
 */
import { join } from 'node:path';
import { runCommand } from './command-runner.js';
import { devicePrefix, namespaceName } from './lab-layout.js';
import type { LabState, RecordedProcess } from './lab-state.js';
import { removeLabDir, saveLabState } from './lab-state.js';
import { stopRecordedProcess } from './process-control.js';

const STOP_ORDER: Record<RecordedProcess['role'], number> = { qemu: 0, agent: 1, controller: 2, forwarder: 3, etcd: 4 };

/** Every QEMU the lab recorded, as processes to stop (QEMU quits cleanly on SIGTERM). */
export function qemuProcesses(state: LabState): RecordedProcess[] {
  return (state.qemuVms ?? []).flatMap((vm) =>
    [vm.qemu, vm.incoming].flatMap((q) =>
      q === undefined
        ? []
        : [
            {
              role: 'qemu' as const,
              name: vm.name,
              pid: q.pid,
              startTime: q.startTime,
              logFile: join(q.runDir, 'qemu.log'),
            },
          ],
    ),
  );
}

export interface TeardownOptions {
  /** Keep the state directory (logs) instead of removing it. */
  keepLogs?: boolean;
}

export async function teardownLab(state: LabState, options: TeardownOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  state.phase = 'tearing-down';
  await saveLabState(state).catch(() => undefined);

  const processes = [...qemuProcesses(state), ...state.processes].sort(
    (a, b) => STOP_ORDER[a.role] - STOP_ORDER[b.role],
  );
  for (const group of [0, 1, 2, 3, 4]) {
    await Promise.all(
      processes
        .filter((p) => STOP_ORDER[p.role] === group)
        .map((p) =>
          stopRecordedProcess(p).catch((e: Error) => problems.push(`${p.name} (pid ${p.pid}): ${e.message}`)),
        ),
    );
  }

  const listed = await runCommand(['ip', 'netns', 'list'], { allowFailure: true });
  const prefix = namespaceName(state.id, '');
  const leftovers = listed.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(prefix));
  const namespaces = [...new Set([...[...state.namespaces].reverse(), ...leftovers])];
  // Anything still running inside our namespaces is ours too: a process whose
  // builder died between spawning and recording it, a ping of a killed run.
  const strays = new Set<number>();
  for (const ns of namespaces) {
    const r = await runCommand(['ip', 'netns', 'pids', ns], { allowFailure: true });
    for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number))
      if (pid > 1 && pid !== process.pid) strays.add(pid);
  }
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (strays.size > 0) await new Promise((r) => setTimeout(r, 100));
  for (const ns of namespaces) {
    const r = await runCommand(['ip', 'netns', 'del', ns], { allowFailure: true });
    if (r.code !== 0 && !/No such file/.test(r.stderr)) problems.push(`netns ${ns}: ${r.stderr.trim()}`);
  }

  const links = await runCommand(['ip', '-o', 'link', 'show'], { allowFailure: true });
  const devPrefix = devicePrefix(state.id);
  for (const line of links.stdout.split('\n')) {
    const name = line.split(':')[1]?.trim().split('@')[0];
    // Exact lab prefix followed by a lab suffix letter: never touches another lab's devices.
    if (name && name.startsWith(devPrefix) && /^[a-z]/.test(name.slice(devPrefix.length))) {
      await runCommand(['ip', 'link', 'del', name], { allowFailure: true });
    }
  }

  state.namespaces = [];
  state.processes = [];
  state.qemuVms = [];
  if (!options.keepLogs) await removeLabDir(state.id);
  else await saveLabState(state).catch(() => undefined);
  return problems;
}
