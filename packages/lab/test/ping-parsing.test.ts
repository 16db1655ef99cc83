import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseOverdueLine,
  parsePingLine,
  pingLoss,
  pingWindowFigures,
  type ContinuousPing,
  type PingReply,
} from '../src/continuous-ping.js';
import { parsePingSummary } from '../src/ping-matrix.js';

test('parsePingLine reads seq, time and reception time of a -D line', () => {
  const p = parsePingLine('[1763771234.123456] 64 bytes from 192.0.2.13: icmp_seq=42 ttl=64 time=0.318 ms');
  assert.deepEqual(p, { reply: { seq: 42, atMs: 1763771234123.456, rttMs: 0.318 }, duplicate: false });
});

test('parsePingLine flags DUP! replies and ignores other lines', () => {
  const p = parsePingLine('[1763771234.500000] 64 bytes from 192.0.2.13: icmp_seq=7 ttl=64 time=1.02 ms (DUP!)');
  assert.equal(p?.duplicate, true);
  assert.equal(p?.reply.seq, 7);
  assert.equal(parsePingLine('[1763771234.5] no answer yet for icmp_seq=8'), null);
  assert.equal(parsePingLine('PING 192.0.2.13 (192.0.2.13) 56(84) bytes of data.'), null);
});

test('parsePingSummary reads counts and the average RTT', () => {
  const s = parsePingSummary(
    '--- 192.0.2.13 ping statistics ---\n3 packets transmitted, 2 received, 33.3333% packet loss, time 203ms\nrtt min/avg/max/mdev = 0.100/0.250/0.400/0.150 ms\n',
  );
  assert.deepEqual(s, { transmitted: 3, received: 2, avgMs: 0.25 });
  assert.deepEqual(parsePingSummary('1 packets transmitted, 0 received, 100% packet loss'), {
    transmitted: 1,
    received: 0,
    avgMs: null,
  });
});

function fakePing(
  replies: PingReply[],
  duplicateTimes: number[] = [],
  overdue: [number, number][] = [],
): ContinuousPing {
  return { replies, duplicateTimes, overdue: new Map(overdue), intervalMs: 10 } as unknown as ContinuousPing;
}

test('parseOverdueLine reads the seq ping found overdue (-O) and when', () => {
  assert.deepEqual(parseOverdueLine('[1763771234.5] no answer yet for icmp_seq=8'), { seq: 8, atMs: 1763771234500 });
  assert.equal(parseOverdueLine('[1763771234.5] 64 bytes from 192.0.2.13: icmp_seq=8 ttl=64 time=1 ms'), null);
});

test('a blackout that never ends counts: every overdue seq after the last reply is lost, the gap runs to the last report', () => {
  // Replies for 1..4, then nothing: ping reports 5..20 overdue, each one interval later.
  const replies = [1, 2, 3, 4].map((seq) => ({ seq, atMs: 1000 + seq * 10, rttMs: 0.2 }));
  const overdue = Array.from({ length: 16 }, (_, k): [number, number] => [5 + k, 1000 + (6 + k) * 10]);
  const f = pingWindowFigures(fakePing(replies, [], overdue), 1000, 2000);
  assert.equal(f.lost, 16);
  assert.equal(f.longestGapMs, 1210 - 1040);
  assert.equal(f.longestGapFromMs, 1040);
  const loss = pingLoss(fakePing(replies, [], overdue), 1000, 2000);
  assert.deepEqual(loss, { sent: 20, lost: 16 });
  // A late reply is no loss: overdue first, answered after.
  const late = pingLoss(fakePing([...replies, { seq: 5, atMs: 1075, rttMs: 25 }], [], [[5, 1060]]), 1000, 2000);
  assert.deepEqual(late, { sent: 5, lost: 0 });
});

test('pingWindowFigures counts the seqs missing between replies and the longest gap', () => {
  // seq 1..10 every 10 ms, 5 and 6 lost: the gap spans 4 -> 7 (30 ms).
  const replies = [1, 2, 3, 4, 7, 8, 9, 10].map((seq) => ({ seq, atMs: 1000 + seq * 10, rttMs: 0.2 }));
  const f = pingWindowFigures(fakePing(replies, [1075]), 1000, 2000);
  assert.equal(f.lost, 2);
  assert.equal(f.longestGapMs, 30);
  assert.equal(f.longestGapFromMs, 1040, 'the gap opens at the reply of seq 4');
  assert.equal(f.duplicates, 1);
  assert.equal(f.received, 8);
});

test('pingWindowFigures attributes a gap to the window of the reply before it', () => {
  const replies = [1, 2, 5, 6].map((seq) => ({ seq, atMs: 1000 + seq * 10, rttMs: 0.2 }));
  assert.equal(pingWindowFigures(fakePing(replies), 1000, 1021).lost, 2);
  assert.equal(pingWindowFigures(fakePing(replies), 1021, 2000).lost, 0);
});

test('pingWindowFigures sorts replies by seq (late replies arrive out of order)', () => {
  const replies = [
    { seq: 1, atMs: 1010, rttMs: 0.1 },
    { seq: 3, atMs: 1031, rttMs: 0.1 },
    { seq: 2, atMs: 1032, rttMs: 12 },
  ];
  const f = pingWindowFigures(fakePing(replies), 1000, 2000);
  assert.equal(f.lost, 0);
});
