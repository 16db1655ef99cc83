/** `dvs mirrors list|create|delete`: port mirrors (SPAN, RSPAN over the overlay) through the controller. */
import { Option, type Command } from 'commander';
import { MAX_MIRROR_SAMPLE_EVERY, MIRROR_DIRECTIONS, isHostId, isPortName, type MirrorRecord } from '@dvs/wire';
import { controllerClient, useColor, type CliContext, type ControllerOption } from '../cli-context.js';
import { UsageError } from '../cli-errors.js';
import { renderTable } from '../render/table.js';
import { parseEncap, parseMac, parseVni } from '../validate.js';
import { printJson, runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson, withWatch } from './common-options.js';

type Opts = ViewOptions & ControllerOption;

const MIRROR_JSON = `{ "name", "sourcePorts": [ { "host", "port" } ], "sourceVnis": [vni], "direction": "ingress"|"egress"|"both",
  "srcMac"?, "dstMac"?, "vlan"?, "sampleEvery", "output": { "host", "port" }, "vni"? (RSPAN mirror VNI), "encap"?,
  "description", "createdAt", "updatedAt" }`;

/** `host/port` → { host, port }. */
function parsePortRef(text: string, what: string): { host: string; port: string } {
  const slash = text.indexOf('/');
  const host = text.slice(0, slash);
  const port = text.slice(slash + 1);
  if (slash < 1 || !isHostId(host) || !isPortName(port))
    throw new UsageError(`${what} "${text}" is not host/port (e.g. host-a/tap-vm1)`);
  return { host, port };
}

function renderMirrors(mirrors: readonly MirrorRecord[], color: boolean): string {
  if (mirrors.length === 0) return 'no mirrors';
  return renderTable(
    [
      { header: 'NAME', value: (m) => m.name },
      {
        header: 'SOURCES',
        value: (m) =>
          [...m.sourcePorts.map((p) => `${p.host}/${p.port}`), ...m.sourceVnis.map((v) => `vni:${v}`)].join(','),
      },
      { header: 'DIRECTION', value: (m) => m.direction },
      {
        header: 'FILTER',
        value: (m) =>
          [
            m.srcMac === undefined ? '' : `src=${m.srcMac}`,
            m.dstMac === undefined ? '' : `dst=${m.dstMac}`,
            m.vlan === undefined ? '' : `vlan=${m.vlan}`,
            m.sampleEvery === 1 ? '' : `1-in-${m.sampleEvery}`,
          ]
            .filter((s) => s !== '')
            .join(' ') || '-',
      },
      { header: 'OUTPUT', value: (m) => `${m.output.host}/${m.output.port}` },
      { header: 'MIRROR VNI', value: (m) => (m.vni === undefined ? '-' : `${m.vni} (${m.encap ?? 'vxlan'})`) },
    ],
    mirrors,
    color,
  );
}

export function addMirrorCommands(program: Command, ctx: CliContext): void {
  const mirrors = program
    .command('mirrors')
    .description('port mirrors: copies of ports or VNIs to an analyser port, on this host (SPAN) or another (RSPAN)');
  helpAfter(mirrors, [
    'dvs mirrors',
    'dvs mirrors create --name watch-vm1 --source host-a/tap-vm1 --output host-b/tap-analyser --vni 9999',
    'dvs mirrors delete --name watch-vm1',
  ]);

  const list = mirrors.command('list', { isDefault: true }).description('every mirror');
  withWatch(withJson(withController(list)));
  helpAfter(list, ['dvs mirrors', 'dvs mirrors list --json'], `{ "mirrors": [ ${MIRROR_JSON} ] }`);
  list.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const all = await client.mirrors();
      return { text: renderMirrors(all, useColor(ctx)), json: { mirrors: all }, problems: 0 };
    });
  });

  const create = mirrors
    .command('create')
    .description(
      'mirror ports or VNIs to an output port; copies from another host than the output cross the overlay in --vni (a VNI that is no network)',
    )
    .requiredOption('--name <name>', 'the mirror\'s name (letters, digits, ".", "_", "-")')
    .option(
      '--source <host/port>',
      'a source port; repeat for more',
      (v: string, prev: { host: string; port: string }[] = []) => [...prev, parsePortRef(v, '--source')],
    )
    .option(
      '--source-vni <vni>',
      'a source VNI (every local port of it, on every host); repeat for more',
      (v: string, prev: number[] = []) => [...prev, parseVni(v, '--source-vni')],
    )
    .addOption(
      new Option('--direction <direction>', 'which frames of the sources').choices(MIRROR_DIRECTIONS).default('both'),
    )
    .option('--src-mac <mac>', 'only frames from this MAC', (v) => parseMac(v, '--src-mac'))
    .option('--dst-mac <mac>', 'only frames to this MAC', (v) => parseMac(v, '--dst-mac'))
    .option('--vlan <vlan>', "only frames with this 802.1Q tag on the source port's wire (trunk ports)", (v) =>
      Number(v),
    )
    .option(`--sample <n>`, `copy 1 in n frames (1..${MAX_MIRROR_SAMPLE_EVERY}; default 1: every frame)`, (v) =>
      Number(v),
    )
    .requiredOption('--output <host/port>', 'the analyser port; it only receives copies while the mirror exists', (v) =>
      parsePortRef(v, '--output'),
    )
    .option('--vni <vni>', 'RSPAN: the mirror VNI the copies cross the overlay in (no network may use it)', (v) =>
      parseVni(v, '--vni'),
    )
    .option('--encap <encap>', 'RSPAN: vxlan (default) or gre-udp', parseEncap)
    .option('--description <text>', 'free text');
  withJson(withController(create));
  helpAfter(
    create,
    [
      'dvs mirrors create --name span1 --source host-a/tap-vm1 --output host-a/tap-analyser',
      'dvs mirrors create --name rspan1 --source host-a/tap-vm1 --direction ingress --output host-b/tap-analyser --vni 9999',
      'dvs mirrors create --name sampled --source-vni 100 --sample 100 --output host-b/tap-analyser --vni 9998',
    ],
    `{ "mirror": ${MIRROR_JSON} }`,
  );
  create.action(
    async (
      opts: Opts & {
        name: string;
        source?: { host: string; port: string }[];
        sourceVni?: number[];
        direction: string;
        srcMac?: string;
        dstMac?: string;
        vlan?: number;
        sample?: number;
        output: { host: string; port: string };
        vni?: number;
        encap?: string;
        description?: string;
      },
    ) => {
      const mirror = await controllerClient(ctx, opts).createMirror({
        name: opts.name,
        sourcePorts: opts.source ?? [],
        sourceVnis: opts.sourceVni ?? [],
        direction: opts.direction,
        output: opts.output,
        ...(opts.srcMac !== undefined ? { srcMac: opts.srcMac } : {}),
        ...(opts.dstMac !== undefined ? { dstMac: opts.dstMac } : {}),
        ...(opts.vlan !== undefined ? { vlan: opts.vlan } : {}),
        ...(opts.sample !== undefined ? { sampleEvery: opts.sample } : {}),
        ...(opts.vni !== undefined ? { vni: opts.vni } : {}),
        ...(opts.encap !== undefined ? { encap: opts.encap } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      });
      if (opts.json) printJson(ctx, { mirror });
      else ctx.io.stdout(`mirror ${mirror.name} created\n${renderMirrors([mirror], useColor(ctx))}\n`);
    },
  );

  const del = mirrors
    .command('delete')
    .description('delete a mirror: its copies stop and its output port is switched again')
    .requiredOption('--name <name>', 'the mirror');
  withJson(withController(del));
  helpAfter(del, ['dvs mirrors delete --name span1'], `{ "deleted": { "name" } }`);
  del.action(async (opts: Opts & { name: string }) => {
    const deleted = await controllerClient(ctx, opts).deleteMirror(opts.name);
    if (opts.json) printJson(ctx, { deleted });
    else ctx.io.stdout(`deleted mirror ${deleted.name}\n`);
  });
}
