import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveHealthOptions, HealthOptionsError } from '../src/health/health-options.js';
import { TunnelSession } from '../src/health/tunnel-session.js';
import { peerAt } from './health-fakes.js';

const options = resolveHealthOptions({ intervalMs: 1000, multiplier: 3, upAfter: 3, windowSize: 10 });

/** Drives one session: probe every interval, the peer answering `answer(seq)` after 5 ms. */
function drive(session: TunnelSession, t: { now: number }, intervals: number, answer: (seq: number) => boolean) {
  const changes = [];
  for (let i = 0; i < intervals; i++) {
    const probe = session.nextProbe(t.now);
    if (probe && answer(probe.seq)) {
      const c = session.replyReceived(probe.seq, t.now + 5, t.now + 5);
      if (c) changes.push(c);
    }
    t.now += 1000;
    const c = session.evaluate(t.now, t.now);
    if (c) changes.push(c);
  }
  return changes;
}

test('starts in init and goes up after 3 replies to consecutive probes, not before', () => {
  const t = { now: 0 };
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
  assert.equal(s.current, 'init');
  assert.equal(s.snapshot(t.now).reason, 'started');
  drive(s, t, 2, () => true);
  assert.equal(s.current, 'init');
  const changes = drive(s, t, 1, () => true);
  assert.equal(s.current, 'up');
  assert.deepEqual(
    changes.map((c) => [c.from, c.to, c.reason]),
    [['init', 'up', 'replies received']],
  );
});

test('replies to non-consecutive probes do not bring a tunnel up (hysteresis)', () => {
  const t = { now: 0 };
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
  // Every other probe answered: never three in a row; the detection timer never fires either.
  drive(s, t, 12, (seq) => seq % 2 === 0);
  assert.equal(s.current, 'init');
  // The window holds probes 3..12: 4,6,8,10,12 answered; 3,5,7,9 final losses at
  // t=12000; 11 (sent at 10000) is still in flight and not counted.
  const snap = s.snapshot(t.now);
  assert.ok(Math.abs((snap.lossPercent ?? 0) - (4 / 9) * 100) < 1e-9, `loss ${snap.lossPercent}`);
});

test('an up tunnel survives fewer than multiplier lost probes and goes down after the detection time', () => {
  const t = { now: 0 };
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
  drive(s, t, 5, () => true);
  assert.equal(s.current, 'up');
  drive(s, t, 2, () => false);
  assert.equal(s.current, 'up', 'two lost probes are not enough');
  const changes = drive(s, t, 1, () => false);
  assert.equal(s.current, 'down');
  assert.equal(changes[0].reason, 'probe timeout');
  const snap = s.snapshot(t.now);
  assert.equal(snap.since, t.now);
  assert.equal(snap.detail, 'no reply for 3000 ms');
});

test('the detection timer fires at exactly interval × multiplier after the last reply', () => {
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, 0, 0);
  for (let seq = 1; seq <= 3; seq++) {
    s.nextProbe(seq * 1000);
    s.replyReceived(seq, seq * 1000 + 1, seq * 1000 + 1);
  }
  assert.equal(s.current, 'up');
  assert.equal(s.evaluate(3001 + 2999, 0), null);
  assert.equal(s.evaluate(3001 + 3000, 0)?.to, 'down');
});

test('init without any reply goes down after the detection time', () => {
  const t = { now: 0 };
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
  drive(s, t, 3, () => false);
  assert.equal(s.current, 'down');
  assert.equal(s.snapshot(t.now).reason, 'probe timeout');
});

test('a down tunnel comes back up after upAfter consecutive replies', () => {
  const t = { now: 0 };
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
  drive(s, t, 4, () => true);
  drive(s, t, 4, () => false);
  assert.equal(s.current, 'down');
  drive(s, t, 2, () => true);
  assert.equal(s.current, 'down');
  drive(s, t, 1, () => true);
  assert.equal(s.current, 'up');
  assert.equal(s.snapshot(t.now).reason, 'replies received');
});

test('send errors with no route make the reason "no route"; other errors "send failed"', () => {
  for (const [code, reason] of [
    ['ENETUNREACH', 'no route'],
    ['EHOSTUNREACH', 'no route'],
    ['EPERM', 'send failed'],
  ]) {
    const t = { now: 0 };
    const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
    drive(s, t, 4, () => true);
    for (let i = 0; i < 3; i++) {
      s.nextProbe(t.now);
      s.sendFailed(code, t.now);
      t.now += 1000;
      s.evaluate(t.now, t.now);
    }
    const snap = s.snapshot(t.now);
    assert.equal(snap.state, 'down', code);
    assert.equal(snap.reason, reason, code);
    assert.equal(snap.detail, code);
    assert.equal(snap.probes.sendErrors, 3);
  }
});

test('a changed peer session id means "peer restarted": back to init, then up again', () => {
  const t = { now: 0 };
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, t.now, t.now);
  assert.equal(s.peerSessionSeen(11, t.now, t.now), null, 'first sighting is not a restart');
  drive(s, t, 3, () => true);
  assert.equal(s.peerSessionSeen(11, t.now, t.now), null, 'same session');
  const change = s.peerSessionSeen(22, t.now, t.now);
  assert.deepEqual(change && [change.from, change.to, change.reason], ['up', 'init', 'peer restarted']);
  assert.equal(s.snapshot(t.now).peerSession, 22);
  drive(s, t, 3, () => true);
  assert.equal(s.current, 'up');
});

test('a removed peer goes down with "peer removed", is no longer probed and is forgotten after the linger time', () => {
  const opts = resolveHealthOptions({ removedLingerMs: 5000 });
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), opts, 0, 0);
  s.nextProbe(0);
  s.replyReceived(1, 1, 1);
  const change = s.remove(100, 100);
  assert.equal(change?.to, 'down');
  assert.equal(change?.reason, 'peer removed');
  assert.equal(s.nextProbe(200), null);
  assert.equal(s.evaluate(100_000, 100_000), null, 'stays down with its reason');
  assert.equal(s.snapshot(200).reason, 'peer removed');
  assert.equal(s.forgettable(5099), false);
  assert.equal(s.forgettable(5100), true);
  const back = s.update(peerAt('198.51.100.2', 'b'), 6000, 6000);
  assert.equal(back?.to, 'init', 're-added peer starts over');
});

test('external peers are unmonitored: never probed, never down', () => {
  const s = new TunnelSession(peerAt('203.0.113.9', 'kernel', { external: true, host: undefined }), options, 0, 0);
  assert.equal(s.current, 'unmonitored');
  assert.equal(s.snapshot(0).reason, 'external peer');
  assert.equal(s.nextProbe(0), null);
  assert.equal(s.evaluate(1e9, 1e9), null);
  assert.equal(s.peerSessionSeen(5, 10, 10), null);
  assert.equal(s.peerSessionSeen(6, 10, 10), null);
  assert.equal(s.current, 'unmonitored');
  assert.equal(s.snapshot(0).host, null);
});

test('RTT last/avg/p99 and loss are computed over the window; in-flight probes are not loss', () => {
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), resolveHealthOptions({ windowSize: 100 }), 0, 0);
  for (let seq = 1; seq <= 100; seq++) {
    const at = seq * 1000;
    s.nextProbe(at);
    if (seq <= 90) s.replyReceived(seq, at + seq / 10, at + seq / 10); // RTT 0.1 .. 9.0 ms
  }
  // Probes 91..100 are unanswered; at t=100000 only 91..97 are older than 3000 ms.
  const snap = s.snapshot(100_000);
  assert.equal(snap.rttMs.last, 9);
  assert.ok(Math.abs((snap.rttMs.avg ?? 0) - 4.55) < 1e-9);
  assert.ok(Math.abs((snap.rttMs.p99 ?? 0) - 9.0) < 1e-9, `p99 ${snap.rttMs.p99}`);
  assert.ok(Math.abs((snap.lossPercent ?? 0) - (7 / 97) * 100) < 1e-9, `loss ${snap.lossPercent}`);
  assert.equal(snap.probes.sent, 100);
  assert.equal(snap.probes.replies, 90);
});

test('duplicate and unknown replies are ignored', () => {
  const s = new TunnelSession(peerAt('198.51.100.2', 'b'), options, 0, 0);
  s.nextProbe(0);
  s.replyReceived(1, 1, 1);
  s.replyReceived(1, 2, 2);
  s.replyReceived(99, 2, 2);
  assert.equal(s.snapshot(2).probes.replies, 1);
});

test('options are validated with the field named', () => {
  assert.deepEqual(resolveHealthOptions(), {
    intervalMs: 1000,
    multiplier: 3,
    upAfter: 3,
    windowSize: 100,
    removedLingerMs: 60000,
  });
  assert.throws(
    () => resolveHealthOptions({ multiplier: 0 }),
    (e: unknown) =>
      e instanceof HealthOptionsError && e.code === 'DVS_CONFIG_INVALID' && /health\.multiplier/.test(e.message),
  );
  assert.throws(() => resolveHealthOptions({ intervalMs: 1.5 }), HealthOptionsError);
});
