/** `dvs networks list|show|create|update|delete`, including external VTEPs. */
import { DATAPATH_CHOICES, MAX_OVERLAY_MTU, MIN_OVERLAY_MTU, type DatapathChoice, type Encap } from '@dvs/wire';
import { Option, type Command } from 'commander';
import { UsageError } from '../cli-errors.js';
import { controllerClient, useColor, type CliContext, type ControllerOption } from '../cli-context.js';
import { FLOOD_MODES, type FloodMode, type NetworkCreate, type NetworkUpdate, type NetworkView } from '@dvs/wire';
import { renderNetwork, renderNetworkList } from '../render/networks-view.js';
import { networkDatapaths, renderNetworkDatapaths } from '../render/network-datapaths.js';
import { formatVtep } from '../render/format.js';
import { parseBoolean, parseEncap, parseHostList, parseLabelList, parseMtu, parseVni, parseVtep } from '../validate.js';
import { printJson, runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson, withWatch } from './common-options.js';

type Opts = ViewOptions & ControllerOption;

interface NetworkFieldOpts {
  name?: string;
  encap?: Encap;
  mtu?: number;
  floodMode?: FloodMode;
  arpSuppression?: boolean;
  externalVtep?: { address: string; port?: number }[];
  allowedHosts?: string[];
  allowedLabels?: string[];
  datapath?: DatapathChoice;
  sflow?: boolean;
  ipfix?: boolean;
  description?: string;
}

const NETWORK_JSON = `{ "vni", "name", "encap", "mtu", "floodMode", "arpSuppression",
  "externalVteps": [ { "address", "port", "description" } ], "allowedHosts"?: [ host ], "allowedLabels"?: [ "key=value" ],
  "datapath"?: "kernel" | "userspace" | "auto", "flowExport"?: { "sflow", "ipfix" } (absent: both true),
  "description", "createdAt", "updatedAt" }`;

function collectVtep(value: string, previous: { address: string; port?: number }[] = []) {
  return [...previous, parseVtep(value, 'external VTEP')];
}

function withNetworkFields(cmd: Command, creating: boolean): Command {
  return cmd
    .addOption(
      new Option('--name <name>', 'network name (letters, digits, . _ -; unique)').makeOptionMandatory(creating),
    )
    .addOption(
      new Option('--encap <encap>', 'tunnel encapsulation: vxlan (UDP 4789) or gre-udp (UDP 4754)').argParser(
        parseEncap,
      ),
    )
    .addOption(
      new Option(
        '--mtu <bytes>',
        `overlay MTU, ${MIN_OVERLAY_MTU}..${MAX_OVERLAY_MTU} (underlay MTU - 50 for VXLAN over IPv4)`,
      ).argParser(parseMtu),
    )
    .addOption(new Option('--flood-mode <mode>', 'BUM handling').choices(FLOOD_MODES))
    .addOption(
      new Option(
        '--arp-suppression <on|off>',
        'on: each agent answers ARP requests and IPv6 neighbour solicitations for IPs bound to live MACs itself, instead of flooding them over the overlay',
      ).argParser((v) => parseBoolean(v, '--arp-suppression')),
    )
    .option(
      '--external-vtep <address[:port]>',
      `a VTEP that is not a dvs agent (kernel vxlan, hardware switch); repeat for more${creating ? '' : '; replaces the list'}`,
      collectVtep,
    )
    .addOption(
      new Option(
        '--allowed-hosts <hosts>',
        `only these hosts (comma-separated ids) may join the VNI, with those of --allowed-labels; "" lets every host join${creating ? '' : '; replaces the list'}`,
      ).argParser((v) => parseHostList(v, '--allowed-hosts')),
    )
    .addOption(
      new Option(
        '--allowed-labels <labels>',
        `hosts carrying one of these labels (comma-separated key=value, from the agent's labels) may join; "" for none${creating ? '' : '; replaces the list'}`,
      ).argParser((v) => parseLabelList(v, '--allowed-labels')),
    )
    .addOption(
      new Option(
        '--datapath <provider>',
        "which datapath provider should serve it on each host: kernel (Linux's bridge + vxlan), userspace (the agent's pipeline), or auto (the host's VXLAN owner; userspace for gre-udp). A host carries all its VXLAN networks on one provider: dvs networks show says where each host serves it and why",
      ).choices(DATAPATH_CHOICES),
    )
    .addOption(
      new Option(
        '--sflow <on|off>',
        "off: sFlow samples none of its frames and sends none of its ports' counters, on hosts that run sFlow (default on)",
      ).argParser((v) => parseBoolean(v, '--sflow')),
    )
    .addOption(
      new Option(
        '--ipfix <on|off>',
        'off: its flows stay out of the IPFIX flow cache (no IPFIX records, not in dvs flows), on hosts that run IPFIX (default on). Only the userspace datapath exports flows: a host whose kernel provider serves the network exports none',
      ).argParser((v) => parseBoolean(v, '--ipfix')),
    )
    .option('--description <text>', 'free text');
}

function fieldsOf(opts: NetworkFieldOpts): NetworkUpdate {
  const body: NetworkUpdate = {};
  if (opts.name !== undefined) body.name = opts.name;
  if (opts.encap !== undefined) body.encap = opts.encap;
  if (opts.mtu !== undefined) body.mtu = opts.mtu;
  if (opts.floodMode !== undefined) body.floodMode = opts.floodMode;
  if (opts.arpSuppression !== undefined) body.arpSuppression = opts.arpSuppression;
  if (opts.externalVtep !== undefined) body.externalVteps = opts.externalVtep;
  if (opts.allowedHosts !== undefined) body.allowedHosts = opts.allowedHosts;
  if (opts.allowedLabels !== undefined) body.allowedLabels = opts.allowedLabels;
  if (opts.datapath !== undefined) body.datapath = opts.datapath;
  if (opts.sflow !== undefined || opts.ipfix !== undefined)
    body.flowExport = {
      ...(opts.sflow !== undefined ? { sflow: opts.sflow } : {}),
      ...(opts.ipfix !== undefined ? { ipfix: opts.ipfix } : {}),
    };
  if (opts.description !== undefined) body.description = opts.description;
  return body;
}

export function addNetworkCommands(program: Command, ctx: CliContext): void {
  const networks = program
    .command('networks')
    .description('virtual networks (VNIs): list, show, create, update, delete');
  helpAfter(networks, ['dvs networks', 'dvs networks show 100', 'dvs networks create --vni 100 --name blue']);

  const list = networks.command('list', { isDefault: true }).description('all networks, by VNI');
  withWatch(withJson(withController(list)));
  helpAfter(
    list,
    ['dvs networks list', 'dvs networks list --json'],
    `{ "networks": [ Network ] }, Network = ${NETWORK_JSON}`,
  );
  list.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const all = await client.networks();
      return { text: renderNetworkList(all, useColor(ctx)), json: { networks: all }, problems: 0 };
    });
  });

  const show = networks
    .command('show')
    .description(
      'one network with its external VTEPs, its flood list, and for each of its hosts the datapath provider that serves it there and why',
    )
    .argument('<vni>', 'VNI (1..16777215)', (v) => parseVni(v));
  withJson(withController(show));
  helpAfter(
    show,
    ['dvs networks show 100', 'dvs networks show 100 --json'],
    `{ "network": Network, "floodList": { "vni", "members": [ { "address", "port", "host" } ], "updatedAt" } | null,
  "datapaths": [ { "host", "state", "provider": "kernel" | "userspace", "reason", "mismatch",
    "flowExport": { "sflow", "ipfix" } (what that host exports of it: nothing where the kernel serves it) } ] }`,
  );
  show.action(async (vni: number, opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const [network, floods, hosts] = await Promise.all([client.network(vni), client.flood(vni), client.hosts()]);
      const flood = floods.find((f) => f.vni === vni) ?? null;
      const datapaths = networkDatapaths(network, flood, hosts);
      const text = `${renderNetwork(network, flood, useColor(ctx))}\n\n${renderNetworkDatapaths(network, datapaths, useColor(ctx))}`;
      // A host that cannot serve the network as it asks is a problem (exit status 1 with --json too).
      const problems = datapaths.filter((d) => d.mismatch).length;
      return { text, json: { network, floodList: flood, datapaths }, problems };
    });
  });

  const create = networks
    .command('create')
    .description('create a network')
    .addOption(
      new Option('--vni <vni>', 'VNI, 1..16777215, unique').argParser((v) => parseVni(v)).makeOptionMandatory(),
    );
  withJson(withController(withNetworkFields(create, true)));
  helpAfter(
    create,
    [
      'dvs networks create --vni 100 --name blue',
      'dvs networks create --vni 200 --name red --encap gre-udp --mtu 1400',
      'dvs networks create --vni 300 --name lab --external-vtep 203.0.113.9 --external-vtep 203.0.113.10:4789',
      'dvs networks create --vni 400 --name pci --allowed-hosts host-a,host-b --allowed-labels zone=pci',
      'dvs networks create --vni 500 --name fast --datapath kernel',
    ],
    `{ "network": Network }`,
  );
  create.action(async (opts: Opts & NetworkFieldOpts & { vni: number }) => {
    const body: NetworkCreate = { vni: opts.vni, name: opts.name as string, ...fieldsOf(opts) };
    const network = await controllerClient(ctx, opts).createNetwork(body);
    report(
      ctx,
      opts,
      { network },
      `created network ${network.vni} (${network.name}), ${network.encap}, mtu ${network.mtu}`,
    );
  });

  const update = networks
    .command('update')
    .description('change a network; only the options given change')
    .argument('<vni>', 'VNI of the network', (v) => parseVni(v))
    .option('--add-external-vtep <address[:port]>', 'add one external VTEP', (v) => parseVtep(v, 'external VTEP'))
    .option('--remove-external-vtep <address[:port]>', 'remove one external VTEP', (v) =>
      parseVtep(v, 'external VTEP'),
    );
  withJson(withController(withNetworkFields(update, false)));
  helpAfter(
    update,
    [
      'dvs networks update 100 --mtu 1400',
      'dvs networks update 100 --arp-suppression on',
      'dvs networks update 100 --datapath userspace',
      'dvs networks update 100 --sflow off --ipfix on',
      'dvs networks update 100 --add-external-vtep 203.0.113.9:4789',
      'dvs networks update 100 --remove-external-vtep 203.0.113.9',
      'dvs networks update 400 --allowed-hosts host-a,host-b,host-c',
      'dvs networks update 400 --allowed-hosts "" --allowed-labels ""   (every host may join again)',
    ],
    `{ "network": Network }`,
  );
  update.action(
    async (
      vni: number,
      opts: Opts &
        NetworkFieldOpts & {
          addExternalVtep?: { address: string; port?: number };
          removeExternalVtep?: { address: string; port?: number };
        },
    ) => {
      const client = controllerClient(ctx, opts);
      const body = fieldsOf(opts);
      const hasFields = Object.keys(body).length > 0;
      if (!hasFields && !opts.addExternalVtep && !opts.removeExternalVtep) {
        throw new UsageError('nothing to update: give at least one option (see dvs networks update --help)');
      }
      let network: NetworkView | null = null;
      if (hasFields) network = await client.updateNetwork(vni, body);
      if (opts.addExternalVtep) network = await client.addExternalVtep(vni, opts.addExternalVtep);
      if (opts.removeExternalVtep)
        network = await client.removeExternalVtep(vni, opts.removeExternalVtep.address, opts.removeExternalVtep.port);
      const n = network as NetworkView;
      const ext = n.externalVteps.map(formatVtep).join(', ') || 'none';
      report(
        ctx,
        opts,
        { network: n },
        `updated network ${n.vni} (${n.name}): ${n.encap}, mtu ${n.mtu}, external VTEPs: ${ext}`,
      );
    },
  );

  const del = networks
    .command('delete')
    .description('delete a network; the controller then removes its FDB entries and flood list')
    .argument('<vni>', 'VNI of the network', (v) => parseVni(v));
  withJson(withController(del));
  helpAfter(del, ['dvs networks delete 100'], `{ "deleted": { "vni" } }`);
  del.action(async (vni: number, opts: Opts) => {
    const deleted = await controllerClient(ctx, opts).deleteNetwork(vni);
    report(ctx, opts, { deleted }, `deleted network ${deleted.vni}`);
  });
}

function report(ctx: CliContext, opts: { json?: boolean }, json: unknown, text: string): void {
  if (opts.json) printJson(ctx, json);
  else ctx.io.stdout(text + '\n');
}
