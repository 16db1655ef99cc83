// Flow export in the namespace lab, judged by collectors from Debian (not
// ours) running in the lab's underlay namespace at 198.51.100.1:
//  - IPFIX → nfcapd; `nfdump` shows the fixed transfer's flows with exactly
//    its packets and bytes; tshark decodes the captured IPFIX cleanly and
//    sums to the same counts.
//  - sFlow v5 → pmacct's sfacctd (renormalized by the sampling rate); its
//    estimate is within the sampling error of the true count; tshark decodes
//    the captured datagrams cleanly, and its sample count is within it too.
//    (sfacctd renormalizes by the pool/sequence ratio it sees, so its figure
//    need not be a multiple of N.)
//  - `flows/show` lists the transfer as the top talker without a collector.
//
// The fixed transfer: `ping -f -c 4000 -s 1000` from vm1 (host h1) to vm2
// (host h2): one request in flight at a time, so nothing queues and every
// request ping counts as sent entered h1's port; each is 1028 IP bytes.
//
// The sFlow bound: with 1-in-N sampling, the number k of samples of n
// frames is (at worst, for independent draws) binomial(n, 1/N): mean n/N,
// standard deviation sqrt(n (1/N)(1 - 1/N)). sFlow's skip-count sampling
// (uniform skips 1..2N-1) is less variable than that, so a binomial bound is
// conservative. We allow 5 standard deviations (a false failure about once
// in 1.7 million runs): for n = 4000, N = 8 that is 500 ± 117 samples, the
// estimate k*N within ±23.4 % of n.
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
const COUNT = 4000;

const flowLab = useFlowLab(VNI, COLLECTOR);

/** sfacctd's estimate of the ICMP from `src` to `dst` in its CSV (packets and bytes, summed over its prints). */
function sfacctdEstimate(csv: string, src: string, dst: string): { packets: number; bytes: number } {
  let packets = 0;
  let bytes = 0;
  for (const line of csv.split('\n')) {
    const c = line.split(',');
    if (c[0] === src && c[1] === dst && c[2]?.toLowerCase() === 'icmp') {
      packets += Number(c[3]);
      bytes += Number(c[4]);
    }
  }
  return { packets, bytes };
}
const lab = (): Lab => flowLab().lab;
const vmOn = (host: string): VmState => flowLab().vmOn(host);

test('IPFIX: nfdump shows the transfer exactly; sFlow: sfacctd within the sampling error; tshark decodes both', async () => {
  const l = lab();
  const src = vmOn('h1');
  const dst = vmOn('h2');
  const c = flowLab().collectors;
  const { child: nfcapd, dir: nfdir } = await c.nfcapd(IPFIX_PORT);
  const { child: sfacctd, csv: sfacctdCsv } = await c.sfacctd(SFLOW_PORT, 'src_host, dst_host, proto');
  const { child: capture, pcap } = await c.capture('export.pcap', `udp port ${IPFIX_PORT} or udp port ${SFLOW_PORT}`);

  const h1 = l.admin('h1');
  // Configured as an operator would, with the dvs CLI on each host (each host's own setting).
  const dvs = async (host: string, args: string[]): Promise<string> => {
    const r = await runDvs(['--lab', `${l.id}/${host}`, ...args]);
    assert.equal(r.code, 0, `dvs ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await dvs('h1', ['ipfix', 'set', `${COLLECTOR}:${IPFIX_PORT}`, '--idle', '2', '--template', '5', '--local']);
  for (const host of ['h1', 'h2'])
    await dvs(host, [
      'sflow',
      'set',
      `${COLLECTOR}:${SFLOW_PORT}`,
      '--sampling',
      String(SAMPLING),
      '--polling',
      '1',
      '--local',
    ]);

  const ping = await l.exec(src.name, ['ping', '-f', '-c', String(COUNT), '-s', String(PAYLOAD), dst.address], {
    timeoutMs: 120_000,
  });
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
  assert.ok(summary, `ping summary: ${ping.stdout}${ping.stderr}`);
  assert.equal(Number(summary[1]), COUNT);
  assert.equal(Number(summary[2]), COUNT, 'every request answered: the true counts are COUNT each way');

  // Top talkers from the cache, before the idle timeout ends the flows.
  const flows = JSON.parse(await dvs('h1', ['flows', '--vni', String(VNI), '--top', '2', '--json'])) as {
    src: string;
    dst: string;
    packets: number;
    octets: number;
    ingress: { kind: string };
  }[];
  const request = flows.find((f) => f.src === src.address && f.dst === dst.address);
  assert.ok(request, `flows/show lists ${src.address} → ${dst.address}: ${JSON.stringify(flows)}`);
  assert.equal(request.packets, COUNT);
  assert.equal(request.octets, COUNT * IP_BYTES);
  assert.equal(request.ingress.kind, 'port');

  // The flows end after 2 s idle; the exporter reports them within a second.
  await waitFor(
    'IPFIX records for both directions sent',
    async () => ((await h1.call('ipfix/show')).data as { counters: { records: number } }).counters.records >= 2,
    20_000,
    200,
  );
  // The collectors take the export in after the agent sent it (the sample ring is drained every 250 ms,
  // sfacctd prints every second, tcpdump writes each datagram once it has read it): both are read until
  // they hold the transfer: sfacctd's estimate up to the bound's low end, the captured IPFIX records all
  // of its requests. What they hold is judged below, on what they have when stopped.
  await waitFor(
    'sfacctd printed the transfer and the capture holds its IPFIX records',
    async () => {
      const printed = sfacctdEstimate(readFileSync(sfacctdCsv, 'utf8'), src.address, dst.address);
      if (printed.packets < COUNT * (1 - sflowErrorBound(COUNT))) return false;
      const captured = await tsharkFields(pcap, `udp.dstport == ${IPFIX_PORT}`, [
        'cflow.srcaddr',
        'cflow.dstaddr',
        'cflow.packets',
      ]);
      let requests = 0;
      for (const r of captured)
        for (let k = 0; k < (r[0]?.length ?? 0); k++)
          if (r[0]![k] === src.address && r[1]![k] === dst.address) requests += Number(r[2]![k]);
      return requests >= COUNT;
    },
    20_000,
    250,
  ).catch(() => undefined);
  const ipfixView = (await h1.call('ipfix/show')).data as { counters: { sendErrors: number; cacheFull: number } };
  assert.equal(ipfixView.counters.sendErrors, 0);
  assert.equal(ipfixView.counters.cacheFull, 0);
  await c.stop(capture);
  await c.stop(nfcapd);
  await c.stop(sfacctd);

  // IPFIX through nfdump: exactly the transfer, each way.
  const nf = await run(
    ['nfdump', '-R', nfdir, '-q', '-N', '-A', 'proto,srcip,dstip', '-o', 'fmt:%pr,%sa,%da,%pkt,%byt', 'proto icmp'],
    { timeoutMs: 30_000 },
  );
  const rows = nf.stdout
    .split('\n')
    .map((line) => line.split(',').map((c) => c.trim()))
    .filter((c) => c.length === 5);
  const nfRow = (a: string, b: string): string[] | undefined => rows.find((r) => r[1] === a && r[2] === b);
  console.log(`# nfdump:\n${nf.stdout}`);
  for (const [a, b] of [
    [src.address, dst.address],
    [dst.address, src.address],
  ] as const) {
    const row = nfRow(a, b);
    assert.ok(row, `nfdump shows ${a} → ${b}`);
    assert.equal(Number(row[3]), COUNT, `${a} → ${b}: packets`);
    assert.equal(Number(row[4]), COUNT * IP_BYTES, `${a} → ${b}: bytes`);
  }

  // IPFIX through tshark: decodes cleanly, templates known, the same sums.
  const ipfixRows = await tsharkFields(pcap, `udp.dstport == ${IPFIX_PORT}`, [
    'cflow.srcaddr',
    'cflow.dstaddr',
    'cflow.packets',
    'cflow.octets',
    '_ws.malformed',
    'cflow.inputint',
    'cflow.outputint',
    'cflow.layer2_segment_id',
  ]);
  let tsharkRequestPackets = 0;
  let tsharkRequestOctets = 0;
  const requestInterfaces = new Set<string>();
  for (const r of ipfixRows) {
    assert.deepEqual(r[4], [], 'no malformed IPFIX');
    const srcs = r[0]!;
    for (let k = 0; k < srcs.length; k++) {
      if (srcs[k] === src.address && r[1]![k] === dst.address) {
        tsharkRequestPackets += Number(r[2]![k]);
        tsharkRequestOctets += Number(r[3]![k]);
        requestInterfaces.add(`${r[5]![k]} ${r[6]![k]} ${BigInt(r[7]![k]!) & 0xffffffn}`);
      }
    }
  }
  assert.equal(tsharkRequestPackets, COUNT, 'tshark: request packets');
  assert.equal(tsharkRequestOctets, COUNT * IP_BYTES, 'tshark: request bytes');
  // In: h1's port (interface 1); out: the VTEP of h2 (16777217, the first VTEP number); the segment's VNI.
  assert.deepEqual([...requestInterfaces], [`1 ${0x1000001} ${VNI}`], 'tshark: interfaces and VNI of the request flow');

  // sFlow through sfacctd (renormalized), within the binomial bound.
  const csv = readFileSync(sfacctdCsv, 'utf8');
  console.log(`# sfacctd:\n${csv}`);
  const { packets: estimate, bytes: estimateBytes } = sfacctdEstimate(csv, src.address, dst.address);
  const bound = sflowErrorBound(COUNT);
  const error = estimate / COUNT - 1;
  console.log(
    `# sFlow 1-in-${SAMPLING}: sfacctd estimates ${estimate} packets / ${estimateBytes} bytes of ${COUNT} / ${COUNT * IP_BYTES}: error ${(error * 100).toFixed(1)} % (bound ±${(bound * 100).toFixed(1)} %)`,
  );
  assert.ok(
    Math.abs(error) <= bound,
    `sFlow estimate ${estimate} is not within ${(bound * 100).toFixed(1)} % of ${COUNT}`,
  );
  // sfacctd counts frame bytes (the sampled frame's length, Ethernet header included).
  assert.equal(estimateBytes, estimate * (IP_BYTES + 14), 'sfacctd: every sampled frame is 1042 bytes');

  // sFlow through tshark: clean, and the samples of the transfer are sfacctd's.
  const sflowRows = await tsharkFields(pcap, `udp.dstport == ${SFLOW_PORT}`, [
    'sflow.flow_sample.sampling_rate',
    'ip.src',
    'ip.dst',
    '_ws.malformed',
  ]);
  let samples = 0;
  for (const r of sflowRows) {
    assert.deepEqual(r[3], [], 'no malformed sFlow');
    const ipSrc = r[1]!;
    const ipDst = r[2]!;
    // Outer header first, then one inner IPv4 header per flow sample.
    for (let k = 1; k < ipSrc.length; k++) if (ipSrc[k] === src.address && ipDst[k] === dst.address) samples++;
    for (const rate of r[0]!) assert.equal(rate, String(SAMPLING));
  }
  const tsharkError = (samples * SAMPLING) / COUNT - 1;
  console.log(
    `# sFlow: tshark decodes ${samples} samples of the transfer: estimate ${samples * SAMPLING}, error ${(tsharkError * 100).toFixed(1)} %`,
  );
  assert.ok(
    Math.abs(tsharkError) <= bound,
    `tshark's ${samples} samples × ${SAMPLING} are not within the bound of ${COUNT}`,
  );
});

test('bad input changes nothing; an unreachable collector costs a counter, not a frame', async () => {
  const l = lab();
  const before = await runDvs(['--lab', `${l.id}/h2`, 'sflow', 'show', '--json', '--local']);
  for (const [args, field] of [
    [['sflow', 'set', 'collector.invalid', '--local'], 'sflow.collectors'],
    [['sflow', 'set', COLLECTOR, '--sampling', '0', '--local'], 'sflow.sampling'],
    [['ipfix', 'set', COLLECTOR, '--idle', '0', '--local'], 'ipfix.idleTimeoutS'],
  ] as const) {
    const r = await runDvs(['--lab', `${l.id}/h2`, ...args]);
    assert.notEqual(r.code, 0, `dvs ${args.join(' ')} refused`);
    assert.match(r.stderr, new RegExp(field.replace('.', '\\.')), `the error names ${field}: ${r.stderr}`);
  }
  const afterwards = await runDvs(['--lab', `${l.id}/h2`, 'sflow', 'show', '--json', '--local']);
  const settingsOf = (stdout: string): unknown => {
    const v = JSON.parse(stdout) as { settings: unknown; collectors: unknown };
    return { settings: v.settings, collectors: v.collectors };
  };
  assert.deepEqual(settingsOf(afterwards.stdout), settingsOf(before.stdout), 'sFlow settings unchanged');

  // h2's namespace has no route to 203.0.113.0/24: every send fails, and only a counter says so.
  const unreachable = '203.0.113.77';
  const route = await l.exec('h2', ['ip', 'route', 'get', unreachable]);
  assert.notEqual(route.code, 0, `h2 must have no route to ${unreachable}: ${route.stdout}`);
  const set = await runDvs([
    '--lab',
    `${l.id}/h2`,
    'sflow',
    'set',
    unreachable,
    '--sampling',
    '1',
    '--polling',
    '1',
    '--local',
  ]);
  assert.equal(set.code, 0, set.stderr);
  const src = vmOn('h1');
  const dst = vmOn('h2');
  const ping = await l.exec(dst.name, ['ping', '-c', '20', '-i', '0.01', '-W', '2', src.address], {
    timeoutMs: 30_000,
  });
  assert.match(ping.stdout, / 0% packet loss/, ping.stdout);
  await waitFor(
    'send errors counted',
    async () => {
      const v = (await l.admin('h2').call('sflow/show')).data as { counters: { sendErrors: number } };
      return v.counters.sendErrors > 0;
    },
    10_000,
    200,
  );
  await l.admin('h2').call('sflow/set', ['off']);
});
