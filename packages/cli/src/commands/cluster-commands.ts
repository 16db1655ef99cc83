/** Cluster views through the controller: status, hosts, tunnels. */
import type { Command } from 'commander';
import { controllerClient, useColor, type CliContext, type ControllerOption } from '../cli-context.js';
import { renderHosts } from '../render/hosts-view.js';
import { renderStatus } from '../render/status-view.js';
import { downTunnels, renderTunnels, sortTunnelRows, tunnelRows } from '../render/tunnels-view.js';
import { parseHost } from '../validate.js';
import { runView, type ViewOptions } from '../view-runner.js';
import { helpAfter, withController, withJson, withWatch } from './common-options.js';

type Opts = ViewOptions & ControllerOption;

export function addClusterCommands(program: Command, ctx: CliContext): void {
  const status = program
    .command('status')
    .description(
      'cluster health at a glance: problems first, then hosts, networks, FDB and tunnels (exit 1 when a problem is found)',
    );
  withWatch(withJson(withController(status)));
  helpAfter(
    status,
    [
      'dvs status',
      'dvs status --json',
      'dvs status --watch --interval 1',
      'DVS_CONTROLLER=http://10.0.0.5:7400 dvs status',
    ],
    `the controller's GET /v1/status body:
{ "controller": { "id", "leader", "leaderId", "etcd" },
  "hosts": { "up", "down", "stale" }, "networks": n, "fdb": { "entries", "duplicates", "stale" },
  "invalidRecords": { kind: count }, "divergentHosts": n,
  "tunnels": { "up", "down", "init", "unmonitored" },
  "problems": [ { "kind", "message", "host"?, "peer"?, "vni"?, "mac"?, "reason"?, "count"?, "recordKind"?, "ip"?, "holder"? } ] }
problems are worst first: no-leader, etcd-down, host-stale (lease lost, entries kept), host-down,
tunnel-down, duplicate-mac, record-ignored, record-invalid (keys that do not decode, per kind),
tables-divergent (an agent's data path disagrees with the tables: dvs audit);
ip-conflict: a MAC claims an IP another MAC of the VNI holds (the first one keeps it).`,
  );
  status.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const s = await client.status();
      return { text: renderStatus(s, useColor(ctx)), json: s, problems: s.problems.length };
    });
  });

  const hosts = program
    .command('hosts')
    .description('hosts registered by their agents, with VTEP, ports and MAC counts');
  withWatch(withJson(withController(hosts)));
  helpAfter(
    hosts,
    ['dvs hosts', 'dvs hosts --json'],
    `{ "hosts": [ { "host", "state": "up"|"down", "since", "vtep": { "address", "port" }, "encaps",
  "agentVersion", "startedAt", "ports": [ { "port", "mode", "bindings", "state", "macCount" } ], "macs" } ] }
Exit 1 when a host is down.`,
  );
  hosts.action(async (opts: Opts) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const list = await client.hosts();
      return {
        text: renderHosts(list, ctx.now(), useColor(ctx)),
        json: { hosts: list },
        problems: list.filter((h) => h.state !== 'up').length,
      };
    });
  });

  const tunnels = program
    .command('tunnels')
    .description(
      'every tunnel (host → peer VTEP): state, RTT, loss, traffic, last change and why (exit 1 when one is down)',
    )
    .option('--host <host>', 'only the tunnels of this host', parseHost);
  withWatch(withJson(withController(tunnels)));
  helpAfter(
    tunnels,
    ['dvs tunnels', 'dvs tunnels --host host-a', 'dvs tunnels --json', 'dvs tunnels --watch'],
    `{ "tunnels": [ { "host", "peer": { "address", "port" }, "peerHost" (null: external or unknown VTEP), "encap",
  "state": "up"|"down"|"init"|"unmonitored", "rtt": { "lastMs", "avgMs", "p99Ms" } | null,
  "lossPct", "lastChange", "reason", "rxPackets", "txPackets", "rxBytes", "txBytes" } ] }
Rows are sorted down first. External VTEPs are "unmonitored", never "down".`,
  );
  tunnels.action(async (opts: Opts & { host?: string }) => {
    const client = controllerClient(ctx, opts);
    await runView(ctx, opts, async () => {
      const [records, hosts] = await Promise.all([client.tunnels(opts.host), client.hosts()]);
      const rows = sortTunnelRows(tunnelRows(records, hosts));
      return {
        text: renderTunnels(rows, ctx.now(), useColor(ctx)),
        json: { tunnels: rows.map(tunnelJson) },
        problems: downTunnels(rows).length,
      };
    });
  });
}

/** The documented JSON row of a tunnel: flat, named from the operator's side. */
export function tunnelJson(r: ReturnType<typeof tunnelRows>[number]) {
  return {
    host: r.from,
    peer: { address: r.vtep.address, port: r.vtep.port },
    peerHost: r.host,
    encap: r.encap,
    state: r.state,
    rtt: r.rtt,
    lossPct: r.lossPct,
    lastChange: r.lastChange,
    reason: r.reason,
    rxPackets: r.rxPackets,
    txPackets: r.txPackets,
    rxBytes: r.rxBytes,
    txBytes: r.txBytes,
  };
}
