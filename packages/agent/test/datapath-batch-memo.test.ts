// The pipeline memoizes the previous frame's lookups within a batch (network,
// source learn, destination entry, socket). These cases put the frame that
// changes what a memo holds in the same batch as the frames that would read
// it stale (each inject() of several frames is read as one batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, mac, settle, taggedFrame } from './frames.js';
import { networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const A = mac('02:00:00:00:0a:01');
const X = mac('02:00:00:00:0a:0f');

test('a MAC learned mid-batch is what the next lookup of it in that batch finds', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const p1 = a.addPort({ name: 'p1', mode: 'access', vni: 100 });
    const p2 = a.addPort({ name: 'p2', mode: 'access', vni: 100 });
    const atB = b.addPort({ name: 'b1', mode: 'access', vni: 100 });
    // X unknown (flooded, the miss memoized); then X appears on p1 in a frame
    // addressed to X itself (a hairpin now, not a flood); then A → X (hairpin).
    p1.inject(frame(X, A), frame(X, X), frame(X, A));
    await settle();
    assert.equal(p2.takeWritten().length, 1, 'only the first frame is flooded to the other port');
    assert.equal(atB.takeWritten().length, 1, 'and to the peer');
    assert.equal(a.dp.counters().drops.hairpin, 2);
  } finally {
    stopAll(a, b);
  }
});

test('frames of two VNIs interleaved in one batch each learn and switch in their own network', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    networkOnBoth(a, b, 200);
    const trunk = a.addPort({
      name: 'trunk',
      mode: 'trunk',
      vlans: new Map([
        [10, 100],
        [20, 200],
      ]),
    });
    const acc100 = a.addPort({ name: 'acc100', mode: 'access', vni: 100 });
    const acc200 = a.addPort({ name: 'acc200', mode: 'access', vni: 200 });
    // A known in VNI 100 first: in the batch its first frame is a plain refresh (memoized).
    trunk.inject(taggedFrame(X, A, 10));
    await settle();
    acc100.takeWritten();
    trunk.inject(taggedFrame(X, A, 10), taggedFrame(X, A, 20), taggedFrame(X, A, 10), taggedFrame(X, A, 20));
    await settle();
    const learned = a.dp
      .fdbEntries()
      .filter((e) => e.mac === '02:00:00:00:0a:01')
      .map((e) => [e.vni, e.location]);
    assert.deepEqual(learned, [
      [100, 'trunk'],
      [200, 'trunk'],
    ]);
    assert.equal(acc100.takeWritten().length, 2);
    assert.equal(acc200.takeWritten().length, 2);
  } finally {
    stopAll(a, b);
  }
});
