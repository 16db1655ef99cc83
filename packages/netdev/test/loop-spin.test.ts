import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PacketBatch, loopSpinStats, nativeAvailable, openTunnelSocketSync, setLoopSpin } from '../src/index.js';
import { waitFor } from '@dvs/test-support';

// The loop spin busy-waits before the loop sleeps, only after frames were
// received: counted per spin; loop turns without frames (timers) never spin;
// 0 removes it.

test(
  'the loop spins after received frames only, and not at all once stopped',
  { skip: !nativeAvailable() },
  async () => {
    const sender = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
    const receiver = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
    const batch = new PacketBatch(4, 2048);
    let received = 0;
    receiver.onReadable(() => {
      received += receiver.recv(batch, 64);
    });
    const send = (): void => {
      batch.offsets[0] = 64;
      batch.lengths[0] = 100;
      batch.setIpv4Destination(0, 0x7f000001, receiver.localPort);
      assert.equal(sender.send(batch, [0], 1), 1);
    };
    try {
      assert.throws(() => setLoopSpin(-1), RangeError);
      assert.throws(() => setLoopSpin(10_001), RangeError);
      setLoopSpin(500);
      const before = loopSpinStats();
      // Loop turns with timers and no frames: no spin.
      for (let i = 0; i < 5; i++) await sleep(2);
      assert.equal(loopSpinStats().spins, before.spins, 'no frames, no spin');
      send();
      await waitFor('the datagram', () => received === 1);
      await waitFor('a spin after it', () => loopSpinStats().spins > before.spins);
      const after = loopSpinStats();
      assert.ok(after.spunMicroseconds > before.spunMicroseconds);
      for (let i = 0; i < 5; i++) await sleep(2);
      assert.equal(loopSpinStats().spins, after.spins, 'one spin per burst of frames');
      setLoopSpin(0);
      send();
      await waitFor('the second datagram', () => received === 2);
      for (let i = 0; i < 3; i++) await sleep(2);
      assert.equal(loopSpinStats().spins, after.spins, 'stopped: no spin');
    } finally {
      setLoopSpin(0);
      sender.close();
      receiver.close();
    }
  },
);
