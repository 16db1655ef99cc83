/**
 * Runs the `dvs` CLI against a lab (tunnels, fdb, status) when it is built:
 * inside the underlay namespace, where the controller listens. When the CLI is
 * not there yet, falls back to the agents' own admin commands and says so.
 */
import type { Lab } from './lab.js';
import { runCommand } from './command-runner.js';
import { underlayNamespace } from './lab-layout.js';
import { isBuilt, programs } from './repo-paths.js';

export interface CliView {
  title: string;
  text: string;
  ok: boolean;
}

/** `dvs <args…>` against the lab's controller; null when the CLI is not built. */
export async function runDvsCli(lab: Lab, args: readonly string[]): Promise<CliView | null> {
  if (!isBuilt('cli')) return null;
  const r = await runCommand(
    ['ip', 'netns', 'exec', underlayNamespace(lab.id), process.execPath, programs.cli, ...args],
    {
      allowFailure: true,
      timeoutMs: 20_000,
    },
  ).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
  return { title: `dvs ${args.join(' ')}`, text: (r.stdout + r.stderr).trimEnd(), ok: r.code === 0 };
}

/** The agent's own view (`<command>` on its admin socket) for each dvs host. */
export async function agentViews(lab: Lab, command: string, args: readonly string[] = []): Promise<CliView[]> {
  const out: CliView[] = [];
  for (const h of lab.state.hosts.filter((x) => x.kind === 'dvs')) {
    try {
      const { text } = await lab.admin(h.name).call(command, args);
      out.push({
        title: `${h.name}: ${command}${args.length ? ' ' + args.join(' ') : ''} (agent admin socket)`,
        text: text.trimEnd(),
        ok: true,
      });
    } catch (e) {
      out.push({ title: `${h.name}: ${command}`, text: (e as Error).message, ok: false });
    }
  }
  return out;
}

/** `dvs tunnels` and `dvs fdb` through the CLI, or the agents' peers/show and fdb/show. */
export async function overlayViews(lab: Lab): Promise<{ views: CliView[]; note: string | null }> {
  const controllerUrl = lab.state.controller?.url;
  if (isBuilt('cli') && controllerUrl) {
    const views: CliView[] = [];
    for (const args of [['tunnels'], ['fdb']]) {
      const v = await runDvsCli(lab, [...args, '--controller', controllerUrl]);
      if (v) views.push(v);
    }
    return { views, note: null };
  }
  const why = !isBuilt('cli') ? 'the dvs CLI is not built yet' : 'this lab has no controller';
  return {
    views: [...(await agentViews(lab, 'peers/show')), ...(await agentViews(lab, 'fdb/show'))],
    note: `${why}: showing each agent's peers/show and fdb/show instead of dvs tunnels / dvs fdb`,
  };
}
