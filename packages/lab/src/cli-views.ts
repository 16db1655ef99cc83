/**
 * Runs the `dvs` CLI against a lab (tunnels, fdb, status) when it is built,
 * as an operator would from the host shell: `dvs --lab <id> …` (the CLI reaches
 * the controller through the lab's forwarder socket). When the CLI is not
 * there yet, falls back to the agents' own admin commands and says so.
 */
import type { Lab } from './lab.js';
import { runCommand } from './command-runner.js';
import { isBuilt, programs } from './programs.js';

export interface CliView {
  title: string;
  text: string;
  /** The command ran and printed its view (a status command may still report problems: see `problems`). */
  ok: boolean;
  /** Exit code 1 of a dvs view: it ran and found a problem (a tunnel down, …). */
  problems?: boolean;
}

/** `dvs --lab <id>[/<host>] <args…>`; null when the CLI is not built. */
export async function runDvsCli(lab: Lab, args: readonly string[], host?: string): Promise<CliView | null> {
  if (!isBuilt('cli')) return null;
  const target = host === undefined ? lab.id : `${lab.id}/${host}`;
  const r = await runCommand([process.execPath, programs.cli, '--lab', target, ...args], {
    allowFailure: true,
    timeoutMs: 20_000,
  }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
  // dvs exit codes: 0 ok, 1 a problem found by a status view, 2 usage, other: failure.
  return {
    title: `dvs --lab ${target} ${args.join(' ')}`,
    text: (r.stdout + r.stderr).trimEnd(),
    ok: r.code === 0 || (r.code === 1 && r.stdout.trim() !== ''),
    problems: r.code === 1,
  };
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

/**
 * `dvs status`, `dvs tunnels` and `dvs fdb` (the controller's view) when agents feed etcd;
 * otherwise each agent's own view, through `dvs agent … --socket` when the CLI
 * is built, or straight from the admin socket, with a note saying why.
 */
export async function overlayViews(lab: Lab): Promise<{ views: CliView[]; note: string | null }> {
  const controllerUrl = lab.state.controller?.url;
  if (isBuilt('cli') && controllerUrl && lab.state.agentsUseEtcd) {
    const views: CliView[] = [];
    for (const args of [['status'], ['tunnels'], ['fdb']]) {
      const v = await runDvsCli(lab, args);
      if (v) views.push(v);
    }
    return { views, note: null };
  }
  const why = !controllerUrl
    ? 'this lab has no controller'
    : 'the agents do not feed etcd yet (no etcd sync), so the controller has no tunnels or FDB to show';
  if (isBuilt('cli')) {
    const views: CliView[] = [];
    for (const h of lab.state.hosts.filter((x) => x.kind === 'dvs' && x.adminSocket)) {
      for (const what of ['peers', 'fdb']) {
        const v = await runDvsCli(lab, ['agent', what], h.name);
        if (v) views.push(v);
      }
    }
    return { views, note: `${why}: showing each host's \`dvs agent peers\` and \`dvs agent fdb\` instead` };
  }
  return {
    views: [...(await agentViews(lab, 'peers/show')), ...(await agentViews(lab, 'fdb/show'))],
    note: `${why}, and the dvs CLI is not built: showing each agent's peers/show and fdb/show`,
  };
}
