// MAC events leave the frame loop: the data path queues mac:local / mac:move /
// mac:gone while it switches a batch and delivers them after the batch's
// frames are out. A listener that throws, or one that is slow, costs no frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DataPathEvents } from '../src/datapath/index.js';
import { BROADCAST, frame, settle } from './frames.js';
import { networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const FRAMES = 32;
const vmMac = (i: number): number => 0x020000001000 + i;

test('a throwing and a slow mac:local listener run after the batch: every frame is out first, none is lost', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const t1 = a.addPort({ name: 't1', mode: 'access', vni: 100 });
    const t2 = a.addPort({ name: 't2', mode: 'access', vni: 100 });
    const far = b.addPort({ name: 'far', mode: 'access', vni: 100 });
    let localOut = 0;
    let remoteOut = 0;
    const outAtDelivery: number[] = [];
    const delivered: DataPathEvents['mac:local'][] = [];
    a.dp.on('mac:local', () => {
      throw new Error('a listener with a bug');
    });
    a.dp.on('mac:local', (e) => {
      localOut += t2.takeWritten().length;
      outAtDelivery.push(localOut);
      const until = Date.now() + 2; // a slow listener: 2 ms per event
      while (Date.now() < until);
      delivered.push(e);
    });

    // One batch: 32 broadcasts from 32 new source MACs, so 32 learns inside it.
    for (let i = 0; i < FRAMES; i++) t1.inject(frame(BROADCAST, vmMac(i)));
    await settle();
    localOut += t2.takeWritten().length;
    remoteOut += far.takeWritten().length;

    assert.equal(localOut, FRAMES, 'every frame reached the other local port');
    assert.equal(remoteOut, FRAMES, 'every frame reached the other host');
    assert.equal(outAtDelivery[0], FRAMES, 'the batch was out before the first event was delivered');
    assert.deepEqual(
      delivered.map((e) => e.mac),
      Array.from({ length: FRAMES }, (_, i) => vmMac(i)),
      'every event delivered, in the order of the frames',
    );
    const c = a.dp.counters();
    assert.equal(c.listenerErrors, FRAMES, 'each throw counted');
    assert.equal(c.internalErrors, 0, 'no batch abandoned');
    assert.deepEqual(
      Object.entries(c.drops).filter(([, n]) => n > 0),
      [],
      'nothing dropped',
    );
    assert.equal(c.fdb.learns, FRAMES);

    // The loop keeps going: the next batch flows and its events arrive too.
    t1.inject(frame(BROADCAST, vmMac(FRAMES)));
    await settle();
    localOut += t2.takeWritten().length;
    assert.equal(localOut, FRAMES + 1);
    assert.equal(delivered.length, FRAMES + 1);
  } finally {
    stopAll(a, b);
  }
});

test('a move inside one batch: mac:local then mac:move, delivered in order after it', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const t1 = a.addPort({ name: 't1', mode: 'access', vni: 100 });
    const t2 = a.addPort({ name: 't2', mode: 'access', vni: 100 });
    const order: string[] = [];
    for (const name of ['mac:local', 'mac:move', 'mac:gone'] as const) {
      a.dp.on(name, (e) => order.push(`${name} ${'port' in e ? e.port : `${e.from}→${e.to}`}`));
    }
    t1.inject(frame(BROADCAST, vmMac(1)));
    t2.inject(frame(BROADCAST, vmMac(1)));
    await settle();
    assert.deepEqual(order, ['mac:local t1', 'mac:local t2', 'mac:move t1→t2']);
  } finally {
    stopAll(a, b);
  }
});
