import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StageRecord, StageMarkName } from '@dvs/netdev';
import { agentHops, hopStages, matchPings, MATCH_WINDOW_US } from '../src/datapath-bench/stage-breakdown.js';

const TAP = 50;
const SOCK = 17;
const rec = (mark: StageMarkName, fd: number, atUs: number, frames = 1): StageRecord => ({ mark, fd, frames, atUs });

/** One ping as the two agents record it, starting at t; the reply wakes A before B's sendmmsg returns. */
function onePing(t: number): { a: StageRecord[]; b: StageRecord[] } {
  return {
    a: [
      rec('poll', TAP, t),
      rec('tap-read', TAP, t + 10),
      rec('send-start', SOCK, t + 30),
      rec('send-done', SOCK, t + 40),
      rec('poll', SOCK, t + 200),
      rec('recv-done', SOCK, t + 205),
      rec('tap-write-start', TAP, t + 225),
      rec('tap-write', TAP, t + 260),
    ],
    b: [
      rec('poll', SOCK, t + 50),
      rec('recv-done', SOCK, t + 55),
      rec('tap-write-start', TAP, t + 75),
      rec('tap-write', TAP, t + 120),
      rec('poll', TAP, t + 125),
      rec('tap-read', TAP, t + 130),
      rec('send-start', SOCK, t + 150),
      rec('send-done', SOCK, t + 210),
    ],
  };
}

test('matchPings lays both agents on one time line, stage by stage', () => {
  const p1 = onePing(1000);
  const p2 = onePing(11_000);
  const pings = matchPings([...p1.a, ...p2.a], [...p1.b, ...p2.b]);
  assert.equal(pings.length, 2);
  const p = pings[0];
  assert.equal(p.startUs, 1000);
  assert.equal(p.aWakeToRead, 10);
  assert.equal(p.aReadToSend, 20);
  assert.equal(p.aSend, 10);
  assert.equal(p.underlayAB, 20, 'from send-start: the peer may be woken before sendmmsg returns');
  assert.equal(p.bRecvToWrite, 20);
  assert.equal(p.bWrite, 45);
  assert.equal(p.vmTurnaround, 5);
  assert.equal(p.bSend, 60);
  assert.equal(p.underlayBA, 50, 'A woken before B’s sendmmsg returned still matches');
  assert.equal(p.aWrite, 35);
  assert.equal(p.jsWork, 20 + 20 + 20 + 20);
  assert.equal(p.span, 260);
  assert.equal(pings[1].startUs, 11_000);
});

test('a probe (send without a TAP read, receive without a TAP write) is not taken for a ping', () => {
  const p = onePing(1000);
  const probeSend = [rec('send-start', SOCK, 500), rec('send-done', SOCK, 510)];
  const probeRecv = [rec('poll', SOCK, 700), rec('recv-done', SOCK, 705)];
  const hops = agentHops([...probeSend, ...probeRecv, ...p.a]);
  assert.equal(hops.egress.length, 1);
  assert.equal(hops.ingress.length, 1);
  assert.equal(hops.egress[0].poll, 1000);
  assert.equal(matchPings([...probeSend, ...p.a], [...probeRecv, ...p.b]).length, 1);
});

test('a hop too late to belong to the ping leaves the ping out', () => {
  const p = onePing(1000);
  const late = p.b.map((r) => ({ ...r, atUs: r.atUs + MATCH_WINDOW_US + 1 }));
  assert.equal(matchPings(p.a, late).length, 0);
});

test('a writable wake-up is not the readable one that preceded a read', () => {
  const hops = agentHops([rec('poll', TAP, 10), rec('poll', TAP, 20, 2), rec('tap-read', TAP, 30)]);
  assert.equal(hops.egress.length, 0, 'no send yet');
  const withSend = agentHops([
    rec('poll', TAP, 10),
    rec('poll', TAP, 20, 2),
    rec('tap-read', TAP, 30),
    rec('send-start', SOCK, 40),
    rec('send-done', SOCK, 50),
  ]);
  assert.equal(withSend.egress[0].poll, 10);
});

test('hopStages splits a hop at its JS marks; a hop without them is left out', () => {
  const JS = -1;
  const records: StageRecord[] = [
    rec('poll', TAP, 100),
    rec('js-handler', JS, 104),
    rec('tap-read', TAP, 110),
    rec('js-read', JS, 115),
    rec('js-switched', JS, 125),
    rec('send-start', SOCK, 130),
    rec('send-done', SOCK, 150),
    rec('poll', SOCK, 400),
    rec('js-handler', JS, 402),
    rec('recv-done', SOCK, 405),
    rec('js-read', JS, 406),
    rec('js-switched', JS, 410),
    rec('tap-write-start', TAP, 411),
    rec('tap-write', TAP, 430),
  ];
  const { egress, ingress } = hopStages(records);
  assert.deepEqual(egress, [{ wakeToHandler: 4, handlerToRead: 11, switch: 10, flushToIo: 5, io: 20, hop: 50 }]);
  assert.deepEqual(ingress, [{ wakeToHandler: 2, handlerToRead: 4, switch: 4, flushToIo: 1, io: 19, hop: 30 }]);
  assert.equal(hopStages(onePing(1000).a).egress.length, 0, 'no JS marks: not split');
});
