/** `dvs fdb` (the authoritative MAC table) and static entries `dvs fdb add|del`. */
import { Option, type Command } from 'commander';
import { controllerClient, useColor, type CliContext, type ControllerOption } from '../cli-context.js';
import { renderFdb } from '../render/fdb-view.js';
import { formatVtep } from '../render/format.js';
import { parseAddress, parseHost, parseMac, parseVni, parseVtep } from '../validate.js';
import { printJson, runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson, withWatch } from './common-options.js';

type Opts = ViewOptions & ControllerOption;

const FDB_JSON = `{ "entries": [ { "vni", "mac", "host" (null: external), "vtep": { "address", "port" }, "seq",
  "ips", "origin": "report"|"static", "moves", "duplicate", "reason", "updatedAt", "ageMs" } ] }`;

const vniOption = () => new Option('--vni <vni>', 'VNI, 1..16777215').argParser((v) => parseVni(v));
const macOption = () => new Option('--mac <mac>', 'MAC address, e.g. 02:00:00:00:00:01').argParser((v) => parseMac(v));

export function addFdbCommands(program: Command, ctx: CliContext): void {
  const fdb = program
    .command('fdb')
    .description('the authoritative MAC table: where each MAC is, seq, age, moves, duplicates');
  helpAfter(fdb, [
    'dvs fdb',
    'dvs fdb --mac 02:00:00:00:00:01',
    'dvs fdb add --vni 100 --mac 02:00:00:00:00:99 --vtep 203.0.113.9',
  ]);

  const list = fdb
    .command('list', { isDefault: true })
    .description('FDB entries, filtered (exit 1 when --mac is given and not found, or a duplicate is shown)')
    .addOption(vniOption())
    .option('--host <host>', 'only MACs located on this host', parseHost)
    .addOption(macOption())
    .option('--duplicate', 'only MACs frozen as duplicates');
  withWatch(withJson(withController(list)));
  helpAfter(
    list,
    [
      'dvs fdb',
      'dvs fdb --vni 100',
      'dvs fdb --host host-a',
      'dvs fdb --mac 02:00:00:00:00:01 --json',
      'dvs fdb --duplicate',
    ],
    FDB_JSON,
  );
  list.action(async (opts: Opts & { vni?: number; host?: string; mac?: string; duplicate?: boolean }) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const entries = await client.fdb({
        vni: opts.vni,
        host: opts.host,
        mac: opts.mac,
        duplicate: opts.duplicate ? true : undefined,
      });
      let text = renderFdb(entries, useColor(ctx));
      let problems = entries.filter((e) => e.duplicate).length;
      if (opts.mac !== undefined && entries.length === 0) {
        text = `MAC ${opts.mac} is not in the FDB${opts.vni ? ` of VNI ${opts.vni}` : ''}: no agent reports it (is the VM up and has it sent a frame?)`;
        problems++;
      }
      return { text, json: { entries }, problems };
    });
  });

  const add = fdb
    .command('add')
    .description('set a static FDB entry: a MAC behind a VTEP (typically an external VTEP)')
    .addOption(vniOption().makeOptionMandatory())
    .addOption(macOption().makeOptionMandatory())
    .addOption(
      new Option('--vtep <address[:port]>', "the VTEP behind which the MAC is (port defaults to the encap's)")
        .argParser((v) => parseVtep(v))
        .makeOptionMandatory(),
    )
    .option(
      '--ip <address>',
      'an IP of the MAC (for ARP suppression); repeat for more',
      (v: string, prev: string[] = []) => [...prev, parseAddress(v, '--ip')],
    );
  withJson(withController(add));
  helpAfter(
    add,
    [
      'dvs fdb add --vni 100 --mac 02:00:00:00:00:99 --vtep 203.0.113.9',
      'dvs fdb add --vni 100 --mac 02:00:00:00:00:98 --vtep 203.0.113.9:4789 --ip 198.51.100.98',
    ],
    `{ "entry": FdbEntry } (FdbEntry as in dvs fdb --json)`,
  );
  add.action(
    async (opts: Opts & { vni: number; mac: string; vtep: { address: string; port?: number }; ip?: string[] }) => {
      const entry = await controllerClient(ctx, opts).addStaticFdb({
        vni: opts.vni,
        mac: opts.mac,
        address: opts.vtep.address,
        ...(opts.vtep.port !== undefined ? { port: opts.vtep.port } : {}),
        ...(opts.ip ? { ips: opts.ip } : {}),
      });
      if (opts.json) printJson(ctx, { entry });
      else ctx.io.stdout(`static entry: vni ${entry.vni} ${entry.mac} → ${formatVtep(entry.vtep)}\n`);
    },
  );

  const del = fdb
    .command('del')
    .description('delete a static FDB entry (learned entries follow the agents and cannot be deleted)')
    .addOption(vniOption().makeOptionMandatory())
    .addOption(macOption().makeOptionMandatory());
  withJson(withController(del));
  helpAfter(del, ['dvs fdb del --vni 100 --mac 02:00:00:00:00:99'], `{ "deleted": { "vni", "mac" } }`);
  del.action(async (opts: Opts & { vni: number; mac: string }) => {
    const deleted = await controllerClient(ctx, opts).deleteStaticFdb(opts.vni, opts.mac);
    if (opts.json) printJson(ctx, { deleted });
    else ctx.io.stdout(`deleted static entry: vni ${deleted.vni} ${deleted.mac}\n`);
  });

  const clear = fdb
    .command('clear-duplicate')
    .description("unfreeze a MAC marked duplicate; the controller re-decides its location from the agents' reports")
    .addOption(vniOption().makeOptionMandatory())
    .addOption(macOption().makeOptionMandatory());
  withJson(withController(clear));
  helpAfter(
    clear,
    ['dvs fdb clear-duplicate --vni 100 --mac 02:00:00:00:00:05'],
    `{ "entry": null, "cleared": { "vni", "mac" } }\n(entry is always null: read the new location with dvs fdb --mac)`,
  );
  clear.action(async (opts: Opts & { vni: number; mac: string }) => {
    const answer = await controllerClient(ctx, opts).clearDuplicate(opts.vni, opts.mac);
    if (opts.json) printJson(ctx, answer);
    else
      ctx.io.stdout(
        `cleared: vni ${answer.cleared.vni} ${answer.cleared.mac} (duplicate flag and move history dropped; ` +
          `the controller re-decides its location: dvs fdb --mac ${answer.cleared.mac})\n`,
      );
  });
}
