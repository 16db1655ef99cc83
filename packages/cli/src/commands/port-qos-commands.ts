/** `dvs ports qos list|set|clear`: ports' QoS policers (OVS's ingress_policing_rate/burst) through the controller. */
import type { Command } from 'commander';
import type { PolicerSpec, PortQosRecord } from '@dvs/wire';
import { controllerClient, useColor, type CliContext, type ControllerOption } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { renderTable } from '../render/table.js';
import { parseHost } from '../validate.js';
import { printJson, runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson, withWatch } from './common-options.js';

type Opts = ViewOptions & ControllerOption;

const QOS_JSON = `{ "host", "port", "ingress": { "rateKbps", "burstKb" } | null, "egress": { "rateKbps", "burstKb" } | null, "updatedAt" }`;

function kbit(text: string, what: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (Number.isNaN(n)) throw new UsageError(`${what} "${text}" is not a whole number of kbit`);
  return n;
}

const policerText = (p: PolicerSpec | null): string =>
  p === null ? '-' : `${p.rateKbps} kbit/s, burst ${p.burstKb} kbit`;

export function addPortQosCommands(program: Command, ctx: CliContext): void {
  const ports = program.command('ports').description("ports' settings kept by the controller (QoS)");
  const qos = ports
    .command('qos')
    .description(
      'QoS per port: ingress policing and an egress limit (token buckets; beyond the rate, frames are dropped as policed)',
    );
  helpAfter(qos, [
    'dvs ports qos',
    'dvs ports qos set --host host-a --port tap-vm1 --ingress-rate 20000',
    'dvs ports qos clear --host host-a --port tap-vm1',
  ]);

  const list = qos.command('list', { isDefault: true }).description('every port with QoS');
  withWatch(withJson(withController(list)));
  helpAfter(list, ['dvs ports qos', 'dvs ports qos list --json'], `{ "ports": [ ${QOS_JSON} ] }`);
  list.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const all = await client.portQos();
      const text =
        all.length === 0
          ? 'no port QoS'
          : renderTable(
              [
                { header: 'HOST', value: (q: PortQosRecord) => q.host },
                { header: 'PORT', value: (q) => q.port },
                { header: 'INGRESS', value: (q) => policerText(q.ingress) },
                { header: 'EGRESS', value: (q) => policerText(q.egress) },
              ],
              all,
              useColor(ctx),
            );
      return { text, json: { ports: all }, problems: 0 };
    });
  });

  const set = qos
    .command('set')
    .description("set a port's policers (both directions at once: one left out has none)")
    .requiredOption('--host <host>', 'the host of the port', parseHost)
    .requiredOption('--port <name>', 'the port')
    .option('--ingress-rate <kbps>', 'police what the port sends into the switch (kbit/s)', (v) =>
      kbit(v, '--ingress-rate'),
    )
    .option('--ingress-burst <kbit>', 'ingress bucket depth (default: a tenth of the rate)', (v) =>
      kbit(v, '--ingress-burst'),
    )
    .option('--egress-rate <kbps>', 'limit what the switch hands to the port (kbit/s)', (v) => kbit(v, '--egress-rate'))
    .option('--egress-burst <kbit>', 'egress bucket depth (default: a tenth of the rate)', (v) =>
      kbit(v, '--egress-burst'),
    );
  withJson(withController(set));
  helpAfter(
    set,
    [
      'dvs ports qos set --host host-a --port tap-vm1 --ingress-rate 20000',
      'dvs ports qos set --host host-a --port tap-vm1 --ingress-rate 20000 --ingress-burst 10000 --egress-rate 100000',
    ],
    `{ "qos": ${QOS_JSON} }`,
  );
  set.action(
    async (
      opts: Opts & {
        host: string;
        port: string;
        ingressRate?: number;
        ingressBurst?: number;
        egressRate?: number;
        egressBurst?: number;
      },
    ) => {
      const policer = (rate?: number, burst?: number) =>
        rate === undefined ? null : { rateKbps: rate, ...(burst !== undefined ? { burstKb: burst } : {}) };
      const record = await controllerClient(ctx, opts).setPortQos(opts.host, opts.port, {
        ingress: policer(opts.ingressRate, opts.ingressBurst),
        egress: policer(opts.egressRate, opts.egressBurst),
      });
      if (opts.json) printJson(ctx, { qos: record });
      else
        ctx.io.stdout(
          `${record.host}/${record.port}: ingress ${policerText(record.ingress)}; egress ${policerText(record.egress)}\n`,
        );
    },
  );

  const clear = qos
    .command('clear')
    .description("remove a port's policers")
    .requiredOption('--host <host>', 'the host of the port', parseHost)
    .requiredOption('--port <name>', 'the port');
  withJson(withController(clear));
  helpAfter(clear, ['dvs ports qos clear --host host-a --port tap-vm1'], `{ "deleted": { "host", "port" } }`);
  clear.action(async (opts: Opts & { host: string; port: string }) => {
    const deleted = await controllerClient(ctx, opts).clearPortQos(opts.host, opts.port);
    if (opts.json) printJson(ctx, { deleted });
    else ctx.io.stdout(`${deleted.host}/${deleted.port}: no QoS\n`);
  });
}
