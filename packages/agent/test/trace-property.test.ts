// The trace says what the data path does. For random tables (networks with
// either encap and any MTU, access and trunk ports, learned, static and
// controller FDB entries, flood lists, a small FDB limit, a missing socket)
// and random frames from a port, `trace` is asked first; then the same frame
// is switched for real. The trace must have changed nothing (counters, FDB),
// and its decision must be what really happened: the same drop counter, the
// same frames out of the same ports with the same tags, the same tunnel
// packets to the same VTEPs with the same header bytes, the same learn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeFrameDevice, FakeUdpNetwork, type FakeDatagram } from '@dvs/netdev/testing';
import { DEFAULT_ENCAP_PORTS, ENCAPS, readVlanId } from '@dvs/wire';
import { DataPath, type TableChange, type TraceReport } from '../src/datapath/index.js';
import { frame, taggedFrame } from './frames.js';

const SELF = '198.51.100.1';
const VTEPS = ['198.51.100.2', '198.51.100.3'];
const VNIS = [100, 200, 300];
const PORT_OF = DEFAULT_ENCAP_PORTS;
/** A small pool so sources and destinations meet each other's entries; plus broadcast and a multicast MAC. */
const MACS = [0x020000000001, 0x020000000002, 0x020000000003, 0x020000000004, 0x020000000005];
const GROUP_MACS = [0xffffffffffff, 0x01005e000001];

const networkArb = fc.record({
  vni: fc.constantFrom(...VNIS),
  encap: fc.constantFrom(...ENCAPS),
  mtu: fc.constantFrom(576, 1450, 9000),
  flood: fc.subarray(VTEPS),
});
const portArb = fc.oneof(
  fc.record({ mode: fc.constant('access' as const), vni: fc.constantFrom(...VNIS, 400) }),
  fc.record({
    mode: fc.constant('trunk' as const),
    vlans: fc
      .uniqueArray(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.constantFrom(...VNIS, 400)), {
        minLength: 1,
        maxLength: 3,
        selector: ([vlan]) => vlan,
      })
      .filter((pairs) => new Set(pairs.map(([, vni]) => vni)).size === pairs.length),
  }),
);
const scenarioArb = fc.record({
  networks: fc.uniqueArray(networkArb, { minLength: 0, maxLength: 3, selector: (n) => n.vni }),
  ports: fc.array(portArb, { minLength: 1, maxLength: 4 }),
  sockets: fc.subarray([...ENCAPS], { minLength: 0 }),
  fdbLimit: fc.constantFrom(2, 3, 100),
  remote: fc.array(
    fc.record({
      vni: fc.constantFrom(...VNIS),
      mac: fc.constantFrom(...MACS),
      vtep: fc.constantFrom(...VTEPS),
      seq: fc.nat(3),
      static: fc.boolean(),
    }),
    { maxLength: 4 },
  ),
  /** Frames switched before the trace, to learn MACs on ports: [port index, src MAC]. */
  learned: fc.array(fc.tuple(fc.nat(3), fc.constantFrom(...MACS)), { maxLength: 5 }),
  query: fc.record({
    port: fc.nat(3),
    vni: fc.constantFrom(...VNIS, 400),
    src: fc.constantFrom(...MACS, ...GROUP_MACS),
    dst: fc.constantFrom(...MACS, ...GROUP_MACS),
    length: fc.constantFrom(64, 600, 1464, 1600, 9014),
  }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  dp: DataPath;
  taps: FakeFrameDevice[];
  sent: FakeDatagram[];
}

function build(s: Scenario): Built {
  const net = new FakeUdpNetwork();
  const sent: FakeDatagram[] = [];
  net.filter = (d) => {
    sent.push(d);
    return false;
  };
  const dp = new DataPath({ agingTimer: false, fdbLimit: s.fdbLimit, now: () => 1_000_000 });
  for (const encap of s.sockets) dp.attachSocket(encap, net.bind({ address: SELF, port: PORT_OF[encap] }));
  const changes: TableChange[] = [];
  for (const n of s.networks) {
    changes.push({ kind: 'network:set', network: { vni: n.vni, encap: n.encap, mtu: n.mtu } });
    const vteps = n.flood.map((address) => ({ address, port: PORT_OF[n.encap] }));
    changes.push({ kind: 'flood:set', vni: n.vni, vteps });
  }
  for (const r of s.remote) {
    const n = s.networks.find((x) => x.vni === r.vni);
    if (n === undefined) continue;
    changes.push({
      kind: 'fdb:set',
      vni: r.vni,
      mac: r.mac,
      vtep: { address: r.vtep, port: PORT_OF[n.encap] },
      seq: r.seq,
      static: r.static,
    });
  }
  assert.deepEqual(dp.apply(changes).rejected, []);
  const taps = s.ports.map((p, i) => {
    const tap = new FakeFrameDevice({ name: `p${i}`, mtu: 9000 });
    dp.addPort(
      p.mode === 'access'
        ? { name: `p${i}`, mode: 'access', vni: p.vni }
        : { name: `p${i}`, mode: 'trunk', vlans: new Map(p.vlans) },
      tap,
    );
    return tap;
  });
  for (const [k, src] of s.learned) {
    const i = k % s.ports.length;
    dp.injectFrame(`p${i}`, frameFrom(s.ports[i]!, firstVni(s.ports[i]!), src, 0xffffffffffff, 64));
  }
  for (const tap of taps) tap.takeWritten();
  sent.length = 0;
  return { dp, taps, sent };
}

const firstVni = (p: Scenario['ports'][number]): number => (p.mode === 'access' ? p.vni : p.vlans[0]![1]);

/** The frame a VM behind port `p` sends in `vni`: tagged with the VLAN of the VNI on a trunk (untagged if none). */
function frameFrom(p: Scenario['ports'][number], vni: number, src: number, dst: number, length: number): Buffer {
  if (p.mode === 'access') return frame(dst, src, length - 14);
  const vlan = p.vlans.find(([, n]) => n === vni)?.[0];
  return vlan === undefined ? frame(dst, src, length - 14) : taggedFrame(dst, src, vlan, length - 14);
}

/** What left the data path, as comparable strings. */
function outputsOf(b: Built): string[] {
  const out: string[] = [];
  b.taps.forEach((tap, i) => {
    for (const f of tap.takeWritten()) {
      const vid = readVlanId(f, 0, f.length);
      out.push(`port p${i} vlan ${vid >= 0 ? vid : null}`);
    }
  });
  for (const d of b.sent.splice(0)) {
    out.push(`vtep ${d.to.address}:${d.to.port} udp ${d.to.port} header ${d.data.subarray(0, 8).toString('hex')}`);
  }
  return out.sort();
}

function reportedOutputs(r: TraceReport): string[] {
  return r.decision.outputs
    .map((o) =>
      o.kind === 'port' ? `port ${o.port} vlan ${o.vlan}` : `vtep ${o.vtep} udp ${o.udpPort} header ${o.tunnelHeader}`,
    )
    .sort();
}

const nonZero = (o: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(o).filter(([, n]) => n !== 0));

test("trace's decision is what switching the same frame really does, and the trace itself changes nothing", () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      const b = build(s);
      const i = s.query.port % s.ports.length;
      const port = s.ports[i]!;
      const vni = port.mode === 'access' ? port.vni : s.query.vni;
      const { src, dst, length } = s.query;
      const heard: string[] = [];
      for (const e of ['mac:local', 'mac:move', 'mac:gone'] as const) b.dp.on(e, () => heard.push(e));

      const before = { counters: b.dp.counters(), fdb: b.dp.fdbEntries() };
      const report = b.dp.trace({ vni, src, dst, port: `p${i}`, length });
      assert.deepEqual(b.dp.counters(), before.counters, 'the trace counted nothing');
      assert.deepEqual(b.dp.fdbEntries(), before.fdb, 'the trace kept nothing it learned');
      assert.deepEqual(heard, [], 'no listener heard of the trace');
      assert.deepEqual(outputsOf(b), [], 'the trace sent nothing');

      b.dp.injectFrame(`p${i}`, frameFrom(port, vni, src, dst, length));
      const after = b.dp.counters();
      const drops = nonZero(
        Object.fromEntries(Object.entries(after.drops).map(([k, n]) => [k, n - before.counters.drops[k as 'mtu']])),
      );
      const really = outputsOf(b);
      const context = JSON.stringify({ report, really, drops });

      assert.deepEqual(reportedOutputs(report), really, `the same frames out: ${context}`);
      if (report.decision.action === 'drop') {
        assert.deepEqual(drops, { [report.decision.dropReason as string]: 1 }, `the same drop: ${context}`);
      } else if (report.decision.action === 'flood') {
        for (const reason of Object.keys(drops))
          assert.equal(reason, 'no-socket', `only flood copies lost: ${context}`);
      } else {
        assert.deepEqual(drops, {}, `nothing dropped: ${context}`);
      }
      // The learn the trace described is the learn that happened.
      const source = report.steps.find((st) => st.step === 'source')?.result ?? '';
      const learns = after.fdb.learns - before.counters.fdb.learns;
      const moves = after.fdb.moves - before.counters.fdb.moves;
      const refused = after.fdb.refused - before.counters.fdb.refused;
      assert.equal(/ new: /.test(source), learns === 1, `learned: ${context}`);
      assert.equal(/ move: /.test(source), moves === 1, `moved: ${context}`);
      assert.equal(/ not learned: /.test(source), refused === 1, `refused: ${context}`);
    }),
    { numRuns: 400 },
  );
});
