import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PacketBatch,
  STAGE_JS_HANDLER,
  markStage,
  nativeAvailable,
  openTunnelSocketSync,
  startStageTrace,
  stopStageTrace,
  takeStageTrace,
} from '../src/index.js';
import { waitFor } from '@dvs/test-support';

// The stage trace marks a frame's edges in the addon on the monotonic clock:
// a send over loopback shows send-start, send-done, the receiver's wake-up
// and recv-done, in that order; off, nothing is recorded.

test(
  'a datagram over loopback leaves its stages in order; stopped, nothing is recorded',
  { skip: !nativeAvailable() },
  async () => {
    const sender = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
    const receiver = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
    const batch = new PacketBatch(4, 2048);
    const send = (): void => {
      batch.offsets[0] = 64;
      batch.lengths[0] = 100;
      batch.setIpv4Destination(0, 0x7f000001, receiver.localPort);
      assert.equal(sender.send(batch, [0], 1), 1);
    };
    try {
      let received = 0;
      receiver.onReadable(() => {
        received += receiver.recv(batch, 64);
      });
      startStageTrace(64);
      send();
      await waitFor('the first datagram', () => received === 1);
      const records = takeStageTrace();
      const marks = records.map((r) => r.mark);
      assert.deepEqual(
        marks.filter((m) => m !== 'poll'),
        ['send-start', 'send-done', 'recv-done'],
      );
      const poll = records.findIndex((r) => r.mark === 'poll');
      assert.ok(poll > marks.indexOf('send-start') && poll < marks.indexOf('recv-done'), marks.join(' '));
      assert.equal(records[poll].frames & 1, 1, 'a readable wake-up');
      for (let k = 1; k < records.length; k++) assert.ok(records[k].atUs >= records[k - 1].atUs, 'one clock, in order');
      assert.equal(takeStageTrace().length, 0, 'take empties the ring');
      markStage(STAGE_JS_HANDLER);
      assert.deepEqual(
        takeStageTrace().map((r) => [r.mark, r.fd]),
        [['js-handler', -1]],
      );
      stopStageTrace();
      markStage(STAGE_JS_HANDLER);
      send();
      await waitFor('the second datagram', () => received === 2);
      assert.equal(takeStageTrace().length, 0, 'stopped: nothing recorded');
    } finally {
      stopStageTrace();
      sender.close();
      receiver.close();
    }
  },
);

test('the ring keeps the newest records', { skip: !nativeAvailable() }, async () => {
  const sender = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
  const receiver = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
  const batch = new PacketBatch(4, 2048);
  try {
    startStageTrace(3);
    for (let i = 0; i < 4; i++) {
      batch.offsets[0] = 0;
      batch.lengths[0] = 10;
      batch.setIpv4Destination(0, 0x7f000001, receiver.localPort);
      sender.send(batch, [0], 1);
    }
    const records = takeStageTrace();
    assert.deepEqual(
      records.map((r) => r.mark),
      ['send-done', 'send-start', 'send-done'],
    );
    assert.throws(() => startStageTrace(0), RangeError);
  } finally {
    stopStageTrace();
    sender.close();
    receiver.close();
  }
});
