import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProbeFrame } from '../src/health/probe-codec.js';
import { TunnelMonitor } from '../src/health/tunnel-monitor.js';
import type { TunnelStateChange } from '../src/health/tunnel-session.js';
import { FakeClock, FakeUnderlay, peerAt } from './health-fakes.js';

const A = '198.51.100.1';
const B = '198.51.100.2';

function pair(opts: { latencyMs?: number } = {}) {
  const clock = new FakeClock();
  const underlay = new FakeUnderlay(clock);
  underlay.latencyMs = opts.latencyMs ?? 0;
  const a = new TunnelMonitor({ transport: underlay.attach(A), clock, session: 0xa });
  const b = new TunnelMonitor({ transport: underlay.attach(B), clock, session: 0xb });
  a.setPeers([peerAt(B, 'host-b')]);
  b.setPeers([peerAt(A, 'host-a')]);
  const changes: TunnelStateChange[] = [];
  a.on('tunnel:state', (c) => changes.push(c));
  /** Runs both monitors for `ms` of fake time in 200 ms ticks (the runner's check period). */
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 200) {
      clock.advance(200);
      underlay.flush();
      a.tick();
      b.tick();
      underlay.flush();
    }
  };
  const stateOf = (m: TunnelMonitor) => m.snapshots()[0];
  return { clock, underlay, a, b, run, changes, stateOf };
}

/** Runs until `done` or the fake-time budget is spent; returns the fake ms it took. */
function runUntil(run: (ms: number) => void, done: () => boolean, budgetMs: number): number {
  let spent = 0;
  while (!done() && spent < budgetMs) {
    run(200);
    spent += 200;
  }
  return spent;
}

test('two monitors bring their tunnel up through the underlay and measure RTT', () => {
  const { a, b, run, changes, stateOf } = pair({ latencyMs: 200 });
  run(5000);
  assert.equal(stateOf(a).state, 'up');
  assert.equal(stateOf(b).state, 'up');
  assert.deepEqual(
    changes.map((c) => [c.from, c.to, c.reason]),
    [['init', 'up', 'replies received']],
  );
  const rtt = stateOf(a).rttMs;
  // 200 ms each way, ticks of 200 ms: the RTT is a whole number of ticks, at least 400.
  assert.ok(rtt.last !== null && rtt.last >= 400, `rtt ${rtt.last}`);
  assert.equal(stateOf(a).lossPercent, 0);
  assert.equal(stateOf(a).peerSession, 0xb);
});

test('cutting the underlay takes the tunnel down within interval × multiplier + one check; restoring brings it up', () => {
  const { a, underlay, run, stateOf, clock } = pair();
  run(4000);
  assert.equal(stateOf(a).state, 'up');
  underlay.cut.add(B);
  const cutAt = clock.now;
  const took = runUntil(run, () => stateOf(a).state === 'down', 10_000);
  assert.equal(stateOf(a).state, 'down');
  assert.ok(took <= 3000 + 200, `down after ${took} ms of fake time`);
  assert.equal(stateOf(a).reason, 'probe timeout');
  assert.ok(stateOf(a).since > cutAt);
  assert.ok((stateOf(a).lossPercent ?? 0) > 0);
  underlay.cut.delete(B);
  const back = runUntil(run, () => stateOf(a).state === 'up', 10_000);
  assert.equal(stateOf(a).state, 'up');
  assert.ok(back <= 3000 + 200, `up after ${back} ms`);
});

test('a host whose route is gone sees "no route"; its peer sees "probe timeout"', () => {
  const { a, b, underlay, run, stateOf } = pair();
  run(4000);
  underlay.noRoute.add(A);
  runUntil(run, () => stateOf(a).state === 'down' && stateOf(b).state === 'down', 10_000);
  assert.equal(stateOf(a).reason, 'no route');
  assert.equal(stateOf(a).detail, 'ENETUNREACH');
  assert.equal(stateOf(b).reason, 'probe timeout');
});

test('a restarted peer (new session id) is reported as "peer restarted" and comes back up', () => {
  const { a, b, underlay, run, stateOf, changes, clock } = pair();
  run(4000);
  b.stop();
  const b2 = new TunnelMonitor({ transport: underlay.attach(B), clock, session: 0xb2 });
  b2.setPeers([peerAt(A, 'host-a')]);
  const tickBoth = (ms: number) => {
    for (let t = 0; t < ms; t += 200) {
      clock.advance(200);
      a.tick();
      b2.tick();
    }
  };
  tickBoth(200);
  assert.equal(stateOf(a).reason, 'peer restarted');
  assert.equal(stateOf(a).state, 'init');
  tickBoth(4000);
  assert.equal(stateOf(a).state, 'up');
  assert.deepEqual(
    changes.map((c) => c.reason),
    ['replies received', 'peer restarted', 'replies received'],
  );
  void run;
});

test('a removed peer shows down with "peer removed", then disappears after the linger time', () => {
  const clock = new FakeClock();
  const underlay = new FakeUnderlay(clock);
  const a = new TunnelMonitor({ transport: underlay.attach(A), clock, session: 1, removedLingerMs: 2000 });
  a.setPeers([peerAt(B, 'host-b')]);
  a.tick();
  a.setPeers([]);
  assert.equal(a.snapshots()[0].state, 'down');
  assert.equal(a.snapshots()[0].reason, 'peer removed');
  clock.advance(1999);
  a.tick();
  assert.equal(a.snapshots().length, 1);
  clock.advance(1);
  a.tick();
  assert.equal(a.snapshots().length, 0);
});

test('external peers are listed as unmonitored and never sent a probe', () => {
  const clock = new FakeClock();
  const underlay = new FakeUnderlay(clock);
  const transport = underlay.attach(A);
  const a = new TunnelMonitor({ transport, clock, session: 1 });
  a.setPeers([peerAt('203.0.113.5', '', { external: true, host: undefined })]);
  for (let i = 0; i < 50; i++) {
    clock.advance(200);
    a.tick();
  }
  assert.equal(transport.sent.length, 0);
  assert.equal(a.snapshots()[0].state, 'unmonitored');
});

test('probes are requests to the peer VTEP; requests from unknown peers are still answered', () => {
  const clock = new FakeClock();
  const underlay = new FakeUnderlay(clock);
  const ta = underlay.attach(A);
  const tb = underlay.attach(B);
  const a = new TunnelMonitor({ transport: ta, clock, session: 1 });
  new TunnelMonitor({ transport: tb, clock, session: 2 }); // b knows no peers yet
  a.setPeers([peerAt(B, 'host-b')]);
  a.tick();
  assert.equal(ta.sent.length, 1);
  const request = decodeProbeFrame(ta.sent[0].frame, 0, 60);
  assert.equal(request?.kind, 'request');
  assert.equal(ta.sent[0].peer.vtep.address, B);
  assert.equal(tb.sent.length, 1, 'b answered');
  const reply = decodeProbeFrame(tb.sent[0].frame, 0, 60);
  assert.deepEqual(reply && [reply.kind, reply.seq, reply.echoSession], ['reply', request?.seq, 1]);
  assert.equal(a.snapshots()[0].probes.replies, 1);
});

test('garbage and our own reflected probes are ignored', () => {
  const clock = new FakeClock();
  const underlay = new FakeUnderlay(clock);
  const ta = underlay.attach(A);
  const a = new TunnelMonitor({ transport: ta, clock, session: 1 });
  a.setPeers([peerAt(B, 'host-b')]);
  const source = { address: B, port: 4789, encap: 'vxlan' as const, vni: 100 };
  a.receive(source, new Uint8Array(10));
  a.receive(source, new Uint8Array(60));
  a.tick();
  a.receive(source, ta.sent[0].frame); // our own request reflected back
  assert.equal(ta.sent.length, 1, 'no reply to ourselves');
  assert.equal(a.snapshots()[0].probes.replies, 0);
});

test('an asynchronous send failure is recorded too', async () => {
  const clock = new FakeClock();
  let handler: unknown = null;
  const a = new TunnelMonitor({
    transport: {
      send: () => Promise.reject(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })),
      onReceive: (h) => {
        handler = h;
      },
    },
    clock,
    session: 1,
  });
  assert.equal(typeof handler, 'function');
  a.setPeers([peerAt(B, 'host-b')]);
  a.tick();
  await new Promise((r) => setImmediate(r));
  assert.equal(a.snapshots()[0].probes.sendErrors, 1);
  for (let i = 0; i < 16; i++) {
    clock.advance(200);
    a.tick();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(a.snapshots()[0].reason, 'no route');
  a.stop();
  assert.equal(handler, null);
});
