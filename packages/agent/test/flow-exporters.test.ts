// The exporters over a real UDP socket on loopback, driven by an injected
// clock: what IPFIX sends when (templates first and on refresh, idle and
// active timeouts, sequence numbers), and what an sFlow datagram carries
// (flow samples with pool and VNI, counter samples on the polling interval).
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { IPFIX_TEMPLATE_IPV4, IPFIX_TEMPLATE_SET_ID, SFLOW_EXTENDED_VNI_EGRESS } from '@dvs/wire';
import { Peer, Port } from '../src/datapath/index.js';
import { IpfixExporter } from '../src/flow-export/ipfix-exporter.js';
import { SflowExporter } from '../src/flow-export/sflow-exporter.js';
import { IPFIX_DEFAULTS, SFLOW_DEFAULTS } from '../src/flow-export/flow-export-config.js';
import { InterfaceIndex, VTEP_INDEX_BASE } from '../src/flow-export/interface-index.js';

let collector: Socket;
let port = 0;
const received: Buffer[] = [];

before(async () => {
  collector = createSocket('udp4');
  collector.on('message', (m) => received.push(m));
  await new Promise<void>((r) => collector.bind(0, '127.0.0.1', r));
  port = collector.address().port;
});
after(() => collector.close());

async function next(n: number): Promise<Buffer[]> {
  for (let k = 0; k < 200 && received.length < n; k++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(received.length, n, `${n} datagram(s) received`);
  return received.splice(0);
}

const device = { name: 'p1', mtu: 1500, read: () => 0, write: () => 0, onReadable() {}, close() {} };
const PORT = new Port({ name: 'p1', mode: 'access', vni: 100 }, device, 4, 4);
const PEER = new Peer('198.51.100.2', 4, 0xc6336402, null, 4789);

function udp(src: number): Buffer {
  const f = Buffer.alloc(114);
  f.writeUInt16BE(0x0800, 12);
  f.set([0x45, 0, 0, 100, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, src, 10, 0, 0, 9], 14);
  f.writeUInt16BE(5000, 34);
  f.writeUInt16BE(6000, 36);
  return f;
}

/** The sets of an IPFIX message: [set id, record count for data sets]. */
function sets(m: Buffer): number[] {
  const ids: number[] = [];
  for (let at = 16; at < m.readUInt16BE(2); at += m.readUInt16BE(at + 2)) ids.push(m.readUInt16BE(at));
  return ids;
}

describe('the IPFIX exporter', () => {
  it('sends templates first and again on refresh, ends idle flows, reports active ones, numbers records', async () => {
    const settings = { ...IPFIX_DEFAULTS, collectors: [], idleTimeoutS: 2, activeTimeoutS: 10, templateRefreshS: 30 };
    const e = new IpfixExporter(
      settings,
      [{ host: '127.0.0.1', port, address: '127.0.0.1', family: 4 }],
      new InterfaceIndex(),
      () => 1,
    );
    try {
      const a = udp(1);
      const b = udp(2);
      e.cache.count(100, a, 0, a.length, PORT, PEER, 1000);
      e.cache.count(100, b, 0, b.length, PEER, PORT, 1000);
      e.tick(1500);
      let [m] = await next(1);
      assert.deepEqual(sets(m!), [IPFIX_TEMPLATE_SET_ID], 'templates alone: nothing due yet');
      assert.equal(m!.readUInt32BE(8), 0, 'sequence 0');
      for (let t = 2000; t <= 11_000; t += 1000) e.cache.count(100, a, 0, a.length, PORT, PEER, t);
      e.tick(11_000);
      [m] = await next(1);
      assert.deepEqual(sets(m!), [IPFIX_TEMPLATE_IPV4], 'b idle, a active: two records in one data set');
      const set = m!.subarray(16);
      assert.equal(set.readUInt16BE(2), 4 + 2 * 70);
      assert.equal(m!.readUInt32BE(8), 0, 'no data record before');
      const first = set.subarray(4, 74);
      const second = set.subarray(74, 144);
      const packets = (r: Buffer): number => Number(r.readBigUInt64BE(37));
      const reason = (r: Buffer): number => r[69]!;
      assert.deepEqual(
        [first, second].map((r) => [r[3], packets(r), reason(r)]).sort(),
        [
          [1, 11, 2],
          [2, 1, 1],
        ],
        'a: 11 packets, active (2); b: 1 packet, idle (1)',
      );
      const ingress = first.readUInt32BE(21);
      assert.ok(ingress === 1 || ingress === VTEP_INDEX_BASE + 1);
      e.cache.count(100, a, 0, a.length, PORT, PEER, 12_000);
      e.tick(31_500);
      [m] = await next(1);
      assert.deepEqual(sets(m!), [IPFIX_TEMPLATE_SET_ID, IPFIX_TEMPLATE_IPV4], 'refresh: templates again, then a');
      assert.equal(m!.readUInt32BE(8), 2, 'two data records sent before');
      assert.deepEqual(e.counters(), {
        messages: 3,
        records: 3,
        templates: 2,
        cacheFull: 0,
        cacheFullPackets: 0,
        cacheFullOctets: 0,
        flows: 0,
      });
    } finally {
      e.close();
    }
  });
});

describe('the IPFIX flow cache without a collector (cache-only)', () => {
  it('ends flows on time and sends and counts nothing', async () => {
    const settings = { ...IPFIX_DEFAULTS, collectors: [], idleTimeoutS: 2 };
    const e = new IpfixExporter(settings, [], new InterfaceIndex(), () => 1);
    try {
      const a = udp(1);
      e.cache.count(100, a, 0, a.length, PORT, PEER, 0);
      e.tick(1000);
      assert.equal(e.counters().flows, 1);
      e.tick(3000);
      assert.equal(e.counters().flows, 0, 'idle flow ended');
      assert.equal(e.counters().records + e.counters().messages + e.counters().templates, 0);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(received.length, 0);
    } finally {
      e.close();
    }
  });
});

describe('the sFlow agent', () => {
  it('sends flow samples with pool, output VTEP and VNI, and counter samples on the polling interval', async () => {
    const settings = { ...SFLOW_DEFAULTS, collectors: [], sampling: 1, pollingS: 5 };
    const counters = { p1: { rxFrames: 7, rxBytes: 700, txFrames: 3, txBytes: 300, txDrops: 0 } };
    const e = new SflowExporter(
      settings,
      [{ host: '127.0.0.1', port, address: '127.0.0.1', family: 4 }],
      '198.51.100.1',
      new InterfaceIndex(),
      () => counters,
      0,
    );
    try {
      const s = e.sampler;
      const state = s.stateOf(PORT);
      const f = udp(1);
      state.pool = 42;
      s.take(state, 100, f, 0, f.length, PORT, PEER, 1);
      e.tick(1000);
      let [d] = await next(1);
      assert.equal(d!.readUInt32BE(0), 5);
      assert.deepEqual([...d!.subarray(8, 12)], [198, 51, 100, 1]);
      assert.equal(d!.readUInt32BE(24), 1, 'one sample');
      const sample = d!.subarray(28);
      assert.equal(sample.readUInt32BE(0), 1, 'flow sample');
      assert.equal(sample.readUInt32BE(16), 1, 'sampling rate');
      assert.equal(sample.readUInt32BE(20), 42, 'pool');
      assert.equal(sample.readUInt32BE(28), 1, 'input: port 1');
      assert.equal(sample.readUInt32BE(32), VTEP_INDEX_BASE + 1, 'output: the VTEP');
      const vniAt = d!.indexOf(Buffer.from([0, 0, SFLOW_EXTENDED_VNI_EGRESS >> 8, SFLOW_EXTENDED_VNI_EGRESS & 255]));
      assert.ok(vniAt > 0, 'extended_vni_egress present');
      assert.equal(d!.readUInt32BE(vniAt + 8), 100);
      e.tick(5000);
      [d] = await next(1);
      assert.equal(d!.readUInt32BE(28), 2, 'counter sample');
      assert.equal(d!.readUInt32BE(28 + 8 + 12 + 8 + 24 + 4), 700, 'ifInOctets low word');
      assert.deepEqual(e.counters(), { datagrams: 2, flowSamples: 1, counterSamples: 1, sampleDrops: 0 });
    } finally {
      e.close();
    }
  });
});
