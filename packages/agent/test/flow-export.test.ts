// Flow export's logic, unit by unit: the IPFIX flow cache (keys, counts,
// bounds, timeouts), sFlow's 1-in-N sampler (rate, pool, ring bound), and
// the admin commands' bad-input rules (field named, nothing changed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandRegistry } from '../src/admin/command-registry.js';
import { DataPath, FlowCache, FlowEnd, FlowSampler } from '../src/datapath/index.js';
import { FlowExportSources } from '../src/flow-export/flow-export-sources.js';
import { FlowExport } from '../src/flow-export/flow-export.js';
import { registerFlowCommands } from '../src/flow-export/flow-commands.js';
import { flowExportMetricLines } from '../src/flow-export/flow-export-metrics.js';

/** An untagged IPv4 frame: protocol, addresses (last octet of 10.0.0.x), ports (or ICMP type/code), IP total length. */
function ipv4Frame(proto: number, src: number, dst: number, sport: number, dport: number, ipLength = 100): Buffer {
  const f = Buffer.alloc(14 + Math.max(ipLength, 28));
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(ipLength, 16);
  f[23] = proto;
  f.set([10, 0, 0, src], 26);
  f.set([10, 0, 0, dst], 30);
  if (proto === 1) {
    f[34] = sport;
    f[35] = dport;
  } else {
    f.writeUInt16BE(sport, 34);
    f.writeUInt16BE(dport, 36);
  }
  return f;
}

const IN = { name: 'in' };
const OUT = { name: 'out' };

describe('the IPFIX flow cache', () => {
  it('counts packets and IP bytes per (VNI, 5-tuple); ICMP keys on type and code; non-IP is not cached', () => {
    const c = new FlowCache(64);
    const udp = ipv4Frame(17, 1, 2, 5000, 6000, 200);
    for (let k = 0; k < 5; k++) assert.ok(c.count(100, udp, 0, udp.length, IN, OUT, 1000 + k));
    assert.ok(c.count(200, udp, 0, udp.length, IN, OUT, 1000), 'another VNI: another flow');
    const echo = ipv4Frame(1, 1, 2, 8, 0, 84);
    const reply = ipv4Frame(1, 2, 1, 0, 0, 84);
    c.count(100, echo, 0, echo.length, IN, OUT, 1000);
    c.count(100, reply, 0, reply.length, OUT, IN, 1000);
    const arp = Buffer.alloc(60);
    arp.writeUInt16BE(0x0806, 12);
    assert.equal(c.count(100, arp, 0, arp.length, IN, OUT, 1000), false);
    assert.equal(c.size, 4);
    const byKey = new Map(
      c.entries().map((e) => [`${c.vni[e]}/${c.protocol[e]}/${c.srcPort[e]}/${c.dstPort[e]}`, e] as const),
    );
    const e = byKey.get('100/17/5000/6000')!;
    assert.equal(c.packets[e], 5);
    assert.equal(c.octets[e], 1000);
    assert.equal(c.startMs[e], 1000);
    assert.equal(c.lastMs[e], 1004);
    assert.deepEqual([...c.address(e, 0)], [10, 0, 0, 1]);
    assert.ok(byKey.has('100/1/0/2048'), 'echo request: type 8 code 0');
    assert.ok(byKey.has('100/1/0/0'), 'echo reply');
  });

  it('is bounded: a new flow that finds it full is counted, with its packets and bytes, not recorded', () => {
    const c = new FlowCache(16);
    for (let k = 0; k < 20; k++) {
      const f = ipv4Frame(17, 1, 2, 1000 + k, 53, 60);
      c.count(100, f, 0, f.length, IN, OUT, 0);
    }
    assert.equal(c.size, 16);
    assert.equal(c.full, 4);
    assert.equal(c.fullPackets, 4);
    assert.equal(c.fullOctets, 240);
  });

  it('ends idle flows, reports active ones and starts them again, and frees entries for reuse', () => {
    const c = new FlowCache(16);
    const a = ipv4Frame(6, 1, 2, 1, 2);
    const b = ipv4Frame(6, 1, 3, 1, 2);
    c.count(100, a, 0, a.length, IN, OUT, 0);
    c.count(100, b, 0, b.length, IN, OUT, 0);
    c.count(100, b, 0, b.length, IN, OUT, 9000);
    const seen: [number, FlowEnd, number][] = [];
    c.expire(10_000, 5000, 8000, false, (e, reason) => seen.push([c.protocol[e], reason, c.packets[e]]));
    assert.deepEqual(seen, [
      [6, FlowEnd.Idle, 1],
      [6, FlowEnd.Active, 2],
    ]);
    assert.equal(c.size, 1);
    assert.deepEqual(c.entries(), [], 'the active flow starts a new period with nothing counted yet');
    c.count(100, b, 0, b.length, IN, OUT, 10_001);
    assert.equal(c.entries().length, 1);
    const forced: FlowEnd[] = [];
    c.expire(10_002, 5000, 8000, true, (_e, reason) => forced.push(reason));
    assert.deepEqual(forced, [FlowEnd.Forced]);
    assert.equal(c.size, 0);
    for (let k = 0; k < 16; k++) {
      const f = ipv4Frame(17, 1, 2, k, 1);
      c.count(100, f, 0, f.length, IN, OUT, 0);
    }
    assert.equal(c.size, 16);
    assert.equal(c.full, 0, 'every freed entry is reused');
  });
});

describe("sFlow's 1-in-N sampler", () => {
  it('samples about 1 in N (5 binomial sigmas), counts every frame in the pool, and drops (counted) when its ring is full', () => {
    const s = new FlowSampler(4096, 128);
    s.rate = 100;
    const port = {};
    const state = s.stateOf(port);
    const frame = ipv4Frame(17, 1, 2, 1, 2);
    const n = 200_000;
    for (let k = 0; k < n; k++) {
      state.pool++;
      if (--state.skip <= 0) {
        state.skip = s.nextSkip();
        s.take(state, 100, frame, 0, frame.length, port, null, 3);
      }
    }
    const p = 1 / 100;
    const sigma = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(state.taken - n * p) <= 5 * sigma, `${state.taken} samples of ${n} at 1-in-100`);
    assert.equal(state.pool, n);
    assert.equal(state.drops, 0);
    assert.equal(s.head - s.tail, state.taken);
    assert.equal(s.frameLength[0], frame.length);
    assert.deepEqual([...s.headers.subarray(0, 14)], [...frame.subarray(0, 14)]);
    // The ring holds 4096; what was taken beyond that is dropped and counted.
    for (let k = 0; k < 300_000; k++) {
      if (--state.skip <= 0) {
        state.skip = s.nextSkip();
        s.take(state, 100, frame, 0, frame.length, port, null, 3);
      }
    }
    assert.equal(s.head - s.tail, 4096);
    assert.equal(state.drops, state.taken - 4096);
  });
});

describe('flow export commands', () => {
  const setup = (): { registry: CommandRegistry; flows: FlowExport } => {
    const registry = new CommandRegistry();
    const flows = new FlowExport({
      dataPath: new DataPath({ agingTimer: false }),
      agentAddress: '127.0.0.1',
      portCounters: () => ({}),
      encapOf: () => 'vxlan',
    });
    registerFlowCommands(registry, new FlowExportSources(flows));
    return { registry, flows };
  };
  const call = async (
    registry: CommandRegistry,
    command: string,
    args: string[],
  ): Promise<{ ok: boolean; error?: { code: string; message: string } }> => registry.dispatch({ id: 1, command, args });

  it('refuses a collector that does not resolve, a rate of 0 and an unknown word, naming the field; nothing changes', async () => {
    const { registry, flows } = setup();
    try {
      const ok = await call(registry, 'sflow/set', ['127.0.0.1:6343', 'sampling=500']);
      assert.equal(ok.ok, true, JSON.stringify(ok));
      const before = JSON.stringify(flows.sflowView().settings);
      const cases: [string, string[], string, RegExp][] = [
        ['sflow/set', ['no-such-collector.invalid'], 'DVS_COLLECTOR_UNRESOLVED', /sflow\.collectors.*does not resolve/],
        ['sflow/set', ['127.0.0.1', 'sampling=0'], 'DVS_BAD_ARGUMENT', /sflow\.sampling: must be a whole number 1\.\./],
        ['sflow/set', ['127.0.0.1:99999'], 'DVS_BAD_ARGUMENT', /sflow\.collectors: .* port outside 1\.\.65535/],
        ['sflow/set', ['127.0.0.1', 'rate=5'], 'DVS_BAD_ARGUMENT', /sflow: "rate=5" is not one of sampling=N/],
        ['ipfix/set', ['no-such-collector.invalid'], 'DVS_COLLECTOR_UNRESOLVED', /ipfix\.collectors/],
        ['ipfix/set', ['cache-only', 'idle=0'], 'DVS_BAD_ARGUMENT', /ipfix\.idleTimeoutS/],
      ];
      for (const [command, args, code, message] of cases) {
        const r = await call(registry, command, args);
        assert.equal(r.ok, false, `${command} ${args.join(' ')} refused`);
        assert.equal(r.error?.code, code, `${command} ${args.join(' ')}: ${r.error?.message}`);
        assert.match(r.error!.message, message);
      }
      assert.equal(JSON.stringify(flows.sflowView().settings), before, 'sFlow unchanged');
      assert.equal(flows.ipfixView().settings, null, 'IPFIX still off');
      const noCache = await call(registry, 'flows/show', []);
      assert.equal(noCache.error?.code, 'DVS_NOT_FOUND');
      const metrics = flowExportMetricLines('host-a', flows);
      assert.ok(metrics.includes('dvs_agent_sflow_send_errors_total{host="host-a"} 0'), metrics.join('\n'));
      assert.ok(!metrics.some((l) => l.startsWith('dvs_agent_ipfix')), 'no IPFIX families while it is off');
    } finally {
      flows.close();
    }
  });
});
