/**
 * `dvs audit`: does every agent forward what the controller intends? Lists
 * each divergence between an agent's data path (its published table digests)
 * and the controller's tables; `--repair` asks those agents to apply the
 * VNIs afresh. Exit 1 when anything diverges.
 */
import type { Command } from 'commander';
import type { DivergenceView, DivergencesView, RepairView } from '@dvs/wire';
import { controllerClient, type CliContext, type ControllerOption } from '../cli-context.js';
import { renderTable } from '../render/table.js';
import { parseHost, parseVni } from '../validate.js';
import { runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson } from './common-options.js';

type Opts = ViewOptions & ControllerOption & { repair?: boolean; host?: string; vni?: number };

export function renderDivergences(view: DivergencesView, repair: RepairView | null): string {
  const lines: string[] = [];
  if (view.divergences.length === 0) {
    lines.push(`no divergence: ${view.checkedHosts} host(s) forward what the controller intends`);
  } else {
    lines.push(
      renderTable(
        [
          { header: 'HOST', value: (d: DivergenceView) => d.host },
          { header: 'VNI', value: (d: DivergenceView) => String(d.vni) },
          { header: 'TABLE', value: (d: DivergenceView) => d.table },
          { header: 'MAC', value: (d: DivergenceView) => d.mac ?? '*' },
          { header: 'AGENT HAS', value: (d: DivergenceView) => d.agentHas },
          { header: 'CONTROLLER INTENDS', value: (d: DivergenceView) => d.intends },
        ],
        view.divergences,
      ),
    );
    lines.push(
      `${view.divergentHosts.length} of ${view.checkedHosts} host(s) diverge` +
        (repair === null ? ' (dvs audit --repair asks them to resync)' : ''),
    );
  }
  for (const r of repair?.requested ?? []) lines.push(`resync requested: ${r.host} VNI ${r.vnis.join(', ')}`);
  return lines.join('\n');
}

export function addTableAuditCommand(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('audit')
    .description(
      "compare every agent's data path (FDB, flood list, accepted sources per VNI) with the controller's tables; exit 1 when anything diverges",
    )
    .option('--repair', 'ask each divergent agent to apply the divergent VNIs afresh')
    .option('--host <host>', 'with --repair: only this host', parseHost)
    .option('--vni <vni>', 'with --repair: only this VNI', (t: string) => parseVni(t));
  withJson(withController(cmd));
  helpAfter(
    cmd,
    ['dvs audit', 'dvs audit --json', 'dvs audit --repair', 'dvs audit --repair --host host-a --vni 100'],
    `{ "checkedHosts": n, "divergentHosts": [host, …], "settleMs": ms,
  "divergences": [ { "host", "vni", "table": "fdb"|"flood"|"sources", "mac": mac|null,
    "agentHas", "intends", "since" } ],
  "repair"?: { "requested": [ { "host", "vnis" } ] } }
A disagreement counts once it lasted settleMs (a change takes a moment to reach every agent).`,
  );
  cmd.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, { ...opts, watch: false }, async () => {
      const view = await client.divergences();
      let repair: RepairView | null = null;
      if (opts.repair === true) {
        repair = await client.repairDivergences({
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.vni !== undefined ? { vni: opts.vni } : {}),
        });
      }
      return {
        text: renderDivergences(view, repair),
        json: repair === null ? view : { ...view, repair },
        problems: view.divergences.length,
      };
    });
  });
}
