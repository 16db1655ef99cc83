// The cluster's flow export, set ONCE through the controller (dvs sflow set,
// dvs ipfix set), reaches every agent of the namespace lab through etcd;
// collectors from Debian in the underlay namespace tell the agents apart by
// the exporter's address:
//  - sFlow → sfacctd, aggregated by peer_src_ip (the sFlow agent address):
//    each agent samples the frames entering its own port (h1 the requests,
//    h2 the replies), each estimate within the sampling error of the true
//    count (5 standard deviations of a binomial, as in flow-export.test.ts);
//  - IPFIX → nfcapd; nfdump's %ra (the exporter) shows each agent's records,
//    and each agent's flow cache saw the fixed transfer exactly, both ways.
// Bad input through the API changes nothing, and clearing the settings
// stops export: a capture at the collector sees no datagram afterwards.
// A second network (VNI 200) with flow export off through the API: tshark at
// the collector decodes samples and records of VNI 100's transfer, and not
// one of VNI 200's, which ran at the same time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Lab, VmState } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { run } from '../support/run-command.js';
import { runDvs } from '../support/dvs-cli.js';
import { tsharkFields, useFlowLab } from '../support/flow-collectors.js';
import {
  COLLECTOR,
  IP_BYTES,
  IPFIX_PORT,
  PAYLOAD,
  SAMPLING,
  SFLOW_PORT,
  sflowErrorBound,
} from '../support/flow-export-settings.js';

const VNI = 100;
const QUIET_VNI = 200;
const COUNT = 2000;
const HOSTS = ['h1', 'h2'] as const;

const flowLab = useFlowLab(VNI, COLLECTOR, [QUIET_VNI]);
const lab = (): Lab => flowLab().lab;
const vmOn = (host: string, vni = VNI): VmState => flowLab().vmOn(host, vni);
const addressOf = (host: string): string => lab().state.hosts.find((h) => h.name === host)!.underlayAddress;

/** `dvs --lab <id> …` (the lab's controller), which must succeed. */
async function dvs(args: string[]): Promise<string> {
  const r = await runDvs(['--lab', lab().id, ...args]);
  assert.equal(r.code, 0, `dvs ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface SourcedView {
  source: string | null;
  settings: Record<string, unknown> | null;
  counters: Record<string, number> | null;
}

async function agentView(host: string, exporter: 'sflow' | 'ipfix'): Promise<SourcedView> {
  return (await lab().admin(host).call(`${exporter}/show`)).data as SourcedView;
}

async function everyAgent(what: string, ok: (sflow: SourcedView, ipfix: SourcedView) => boolean): Promise<void> {
  await waitFor(
    what,
    async () => {
      for (const host of HOSTS) if (!ok(await agentView(host, 'sflow'), await agentView(host, 'ipfix'))) return false;
      return true;
    },
    20_000,
    100,
  );
}

async function transfer(vni = VNI, count = COUNT): Promise<void> {
  const ping = await lab().exec(
    vmOn('h1', vni).name,
    ['ping', '-f', '-c', String(count), '-s', String(PAYLOAD), vmOn('h2', vni).address],
    { timeoutMs: 120_000 },
  );
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
  assert.ok(summary, `ping summary: ${ping.stdout}${ping.stderr}`);
  assert.equal(Number(summary[2]), count, 'every request answered: the true counts are COUNT each way');
}

/** sfacctd's CSV rows (header names → values), the header read from the file. */
function csvRows(text: string): Record<string, string>[] {
  let header: string[] = [];
  const rows: Record<string, string>[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split(',');
    if (cells.includes('PACKETS')) header = cells;
    else if (header.length === cells.length) rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i]!])));
  }
  return rows;
}

/** sfacctd's estimate of the ICMP from `from` to `to` that `host`'s agent sampled (packets, summed over its prints). */
function sfacctdEstimate(rows: Record<string, string>[], host: string, from: string, to: string): number {
  let estimate = 0;
  for (const r of rows)
    if (r.PEER_SRC_IP === addressOf(host) && r.SRC_IP === from && r.DST_IP === to && /icmp/i.test(r.PROTOCOL ?? ''))
      estimate += Number(r.PACKETS);
  return estimate;
}

test('set once through the controller: every agent exports to the collectors; clearing stops it', async () => {
  const c = flowLab().collectors;
  const src = vmOn('h1');
  const dst = vmOn('h2');
  const { child: nfcapd, dir: nfdir } = await c.nfcapd(IPFIX_PORT);
  const { child: sfacctd, csv } = await c.sfacctd(SFLOW_PORT, 'peer_src_ip, src_host, dst_host, proto');

  await dvs(['sflow', 'set', `${COLLECTOR}:${SFLOW_PORT}`, '--sampling', String(SAMPLING), '--polling', '1']);
  await dvs(['ipfix', 'set', `${COLLECTOR}:${IPFIX_PORT}`, '--idle', '1', '--template', '5']);
  await everyAgent(
    "every agent runs the cluster's sFlow and IPFIX",
    (s, i) => s.source === 'cluster' && s.settings?.sampling === SAMPLING && i.source === 'cluster',
  );
  assert.match(
    (await runDvs(['--lab', `${lab().id}/h2`, 'sflow', 'show', '--local'])).stdout,
    /source: the cluster/,
    'dvs sflow show --local says where the settings come from',
  );

  // Bad input through the API: refused, naming the field; the cluster's settings and the agents' unchanged.
  const clusterBefore = await dvs(['sflow', 'show', '--json']);
  for (const [args, field] of [
    [['sflow', 'set', 'collector.invalid'], 'collectors\\[0\\]: collector "collector.invalid" does not resolve'],
    [['sflow', 'set', COLLECTOR, '--sampling', '0'], 'sampling: must be'],
    [['ipfix', 'set', COLLECTOR, '--idle', '0'], 'idleTimeoutS: must be'],
  ] as const) {
    const r = await runDvs(['--lab', lab().id, ...args]);
    assert.notEqual(r.code, 0, `dvs ${args.join(' ')} refused`);
    assert.match(r.stderr, new RegExp(field), `the error names ${field}: ${r.stderr}`);
  }
  assert.equal(await dvs(['sflow', 'show', '--json']), clusterBefore, "the cluster's sFlow is unchanged");
  for (const host of HOSTS) assert.equal((await agentView(host, 'sflow')).settings?.sampling, SAMPLING);
  assert.equal((await agentView('h1', 'ipfix')).settings?.idleTimeoutS, 1);

  await transfer();
  // A flow leaves the cache in the tick that exports it: none of the transfer left, its records went out.
  await waitFor(
    "the transfer's flows ended (idle) and exported on every agent",
    async () => {
      for (const host of HOSTS) {
        const cached = (
          await lab()
            .admin(host)
            .call('flows/show', [String(VNI)])
        ).data as { src: string }[];
        if (cached.some((f) => f.src === src.address || f.src === dst.address)) return false;
        if (((await agentView(host, 'ipfix')).counters?.records ?? 0) < 2) return false;
      }
      return true;
    },
    20_000,
    200,
  );
  // sFlow samples are drained every 250 ms; sfacctd prints every second: its print is read until it holds
  // each agent's samples of the transfer (up to the bound's low end); they are judged below, once it stopped.
  const sampled = [
    ['h1', src.address, dst.address],
    ['h2', dst.address, src.address],
  ] as const;
  await waitFor(
    "sfacctd printed each agent's samples of the transfer",
    () => {
      const rows = csvRows(readFileSync(csv, 'utf8'));
      return sampled.every(
        ([host, from, to]) => sfacctdEstimate(rows, host, from, to) >= COUNT * (1 - sflowErrorBound(COUNT)),
      );
    },
    20_000,
    250,
  ).catch(() => undefined);
  for (const host of HOSTS) {
    const s = await agentView(host, 'sflow');
    assert.ok((s.counters?.flowSamples ?? 0) > 0, `${host} sent flow samples`);
    assert.equal(s.counters?.sendErrors, 0);
  }
  await c.stop(nfcapd);
  await c.stop(sfacctd);

  // IPFIX: each agent's records, exactly the transfer each way.
  const nf = await run(['nfdump', '-R', nfdir, '-q', '-N', '-o', 'fmt:%ra,%sa,%da,%pkt,%byt', 'proto icmp'], {
    timeoutMs: 30_000,
  });
  console.log(`# nfdump:\n${nf.stdout}`);
  const sums = new Map<string, [number, number]>();
  for (const line of nf.stdout.split('\n')) {
    const cells = line.split(',').map((x) => x.trim());
    if (cells.length !== 5) continue;
    const key = cells.slice(0, 3).join(' ');
    const [p, b] = sums.get(key) ?? [0, 0];
    sums.set(key, [p + Number(cells[3]), b + Number(cells[4])]);
  }
  for (const host of HOSTS)
    for (const [a, b] of [
      [src.address, dst.address],
      [dst.address, src.address],
    ])
      assert.deepEqual(
        sums.get(`${addressOf(host)} ${a} ${b}`),
        [COUNT, COUNT * IP_BYTES],
        `nfdump: ${host}'s records of ${a} → ${b}`,
      );

  // sFlow: each agent samples what enters its port; sfacctd renormalizes per agent.
  const rows = csvRows(readFileSync(csv, 'utf8'));
  console.log(`# sfacctd:\n${readFileSync(csv, 'utf8')}`);
  const bound = sflowErrorBound(COUNT);
  for (const [host, from, to] of sampled) {
    const estimate = sfacctdEstimate(rows, host, from, to);
    const error = estimate / COUNT - 1;
    console.log(
      `# sFlow from ${host}: ${estimate} of ${COUNT} (${(error * 100).toFixed(1)} %, bound ±${(bound * 100).toFixed(1)} %)`,
    );
    assert.ok(Math.abs(error) <= bound, `${host}: sfacctd's estimate ${estimate} is not within the bound of ${COUNT}`);
  }

  // Cleared through the controller: every agent stops, and nothing reaches the collectors any more.
  await dvs(['sflow', 'clear']);
  await dvs(['ipfix', 'clear']);
  assert.match(await dvs(['sflow', 'show']), /cluster sFlow: none/);
  await everyAgent('every agent stopped exporting', (s, i) => s.settings === null && i.settings === null);
  const { child: capture, pcap } = await c.capture(
    'after-clear.pcap',
    `udp port ${IPFIX_PORT} or udp port ${SFLOW_PORT}`,
  );
  await transfer();
  await new Promise((r) => setTimeout(r, 2500));
  await c.stop(capture);
  const datagrams = await tsharkFields(pcap, 'udp', ['ip.src']);
  assert.deepEqual(datagrams, [], 'no sFlow or IPFIX datagram after the clear');
});

test("a network with flow export off through the controller: nothing of its traffic reaches the collector, the other network's does", async () => {
  const c = flowLab().collectors;
  const count = 400;
  await dvs(['networks', 'update', String(QUIET_VNI), '--sflow', 'off', '--ipfix', 'off']);
  assert.match(await dvs(['networks', 'show', String(QUIET_VNI)]), /flow export:\s+none/);
  await waitFor(
    `every agent keeps VNI ${QUIET_VNI} out of flow export`,
    async () => {
      for (const host of HOSTS) {
        const nets = (await lab().admin(host).call('networks/show')).data as {
          vni: number;
          flowExport: { sflow: boolean; ipfix: boolean };
        }[];
        const quiet = nets.find((n) => n.vni === QUIET_VNI)?.flowExport;
        if (quiet?.sflow !== false || quiet.ipfix !== false) return false;
      }
      return true;
    },
    20_000,
    100,
  );
  // Captured from before the exporters start: tshark needs the IPFIX templates to decode the records.
  const { child: capture, pcap } = await c.capture(
    'per-network.pcap',
    `udp port ${IPFIX_PORT} or udp port ${SFLOW_PORT}`,
  );
  await dvs(['sflow', 'set', `${COLLECTOR}:${SFLOW_PORT}`, '--sampling', '4', '--polling', '1']);
  await dvs(['ipfix', 'set', `${COLLECTOR}:${IPFIX_PORT}`, '--idle', '1', '--template', '5']);
  await everyAgent('every agent runs sFlow and IPFIX again', (s, i) => s.settings !== null && i.settings !== null);
  await Promise.all([transfer(VNI, count), transfer(QUIET_VNI, count)]);
  assert.deepEqual(
    (
      await lab()
        .admin('h1')
        .call('flows/show', [String(QUIET_VNI)])
    ).data,
    [],
    `dvs flows --vni ${QUIET_VNI}: nothing cached`,
  );
  // Both transfers' flows end after 1 s idle and leave each agent's cache in the tick that exports them (a
  // flow of the quiet network too, were it cached); samples drain every 250 ms, well before.
  const transferAddresses = HOSTS.flatMap((host) => [vmOn(host).address, vmOn(host, QUIET_VNI).address]);
  await waitFor(
    "both transfers' flows ended on every agent",
    async () => {
      for (const host of HOSTS)
        for (const vni of [VNI, QUIET_VNI]) {
          const cached = (
            await lab()
              .admin(host)
              .call('flows/show', [String(vni)])
          ).data as { src: string }[];
          if (cached.some((f) => transferAddresses.includes(f.src))) return false;
        }
      return true;
    },
    20_000,
    200,
  );
  // Every address tshark finds inside the datagrams: inner IPv4 headers of sFlow samples, IPFIX flow keys.
  const addressesIn = async (): Promise<Set<string>> => {
    const found = new Set<string>();
    for (const r of await tsharkFields(pcap, `udp.dstport == ${SFLOW_PORT}`, ['ip.src', 'ip.dst']))
      for (const column of r) for (const a of column.slice(1)) found.add(a);
    for (const r of await tsharkFields(pcap, `udp.dstport == ${IPFIX_PORT}`, ['cflow.srcaddr', 'cflow.dstaddr']))
      for (const column of r) for (const a of column) found.add(a);
    return found;
  };
  // The capture is written as it goes: read until it holds VNI 100's export from both hosts, then stopped.
  await waitFor(
    `the capture holds VNI ${VNI}'s export`,
    async () => {
      const found = await addressesIn();
      return HOSTS.every((host) => found.has(vmOn(host).address));
    },
    20_000,
    250,
  ).catch(() => undefined);
  await c.stop(capture);
  await dvs(['sflow', 'clear']);
  await dvs(['ipfix', 'clear']);

  const seen = await addressesIn();
  console.log(`# addresses the collector was told of: ${[...seen].sort().join(' ')}`);
  for (const host of HOSTS) {
    assert.ok(seen.has(vmOn(host).address), `VNI ${VNI}'s ${vmOn(host).address} exported`);
    assert.ok(
      !seen.has(vmOn(host, QUIET_VNI).address),
      `VNI ${QUIET_VNI}'s ${vmOn(host, QUIET_VNI).address} not exported`,
    );
  }
});
