import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@dvs/test-support';
import { decodeTunnelStatus, isRecordError, type TunnelStatusRecord } from '@dvs/wire';
import { TunnelStatusPublisher } from '../src/health/status-publisher.js';

const record = (n: number): TunnelStatusRecord => ({ host: 'host-a', peers: [], updatedAt: n });

test('publishes the encoded record at start, coalesces a burst of changes into one write, and stops', async () => {
  const writes: TunnelStatusRecord[] = [];
  let n = 0;
  const p = new TunnelStatusPublisher({
    record: () => record(++n),
    write: async (value) => {
      const decoded = decodeTunnelStatus(value);
      assert.ok(!isRecordError(decoded));
      writes.push(decoded);
    },
    periodMs: 60_000,
    settleMs: 20,
  });
  p.start();
  await waitFor('the first write', () => writes.length === 1, 2500, 5);
  for (let i = 0; i < 10; i++) p.changed();
  await waitFor('the second write', () => writes.length === 2, 2500, 5);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(writes.length, 2, 'ten changes, one write');
  await p.stop();
  p.changed();
  await p.publishNow();
  assert.equal(writes.length, 2, 'nothing after stop');
  assert.equal(p.published, 2);
});

test('one write in flight at a time; a publish during it runs once more afterwards; errors are reported, not thrown', async () => {
  let release: () => void = () => undefined;
  let calls = 0;
  const errors: unknown[] = [];
  const p = new TunnelStatusPublisher({
    record: () => record(1),
    write: () => {
      calls++;
      if (calls === 3) return Promise.reject(new Error('etcd unavailable'));
      return new Promise<void>((resolve) => (release = resolve));
    },
    periodMs: 60_000,
    onError: (e) => errors.push(e),
  });
  const first = p.publishNow();
  void p.publishNow();
  void p.publishNow();
  assert.equal(calls, 1);
  release();
  await waitFor('a second call', () => calls === 2, 2500, 5);
  release();
  await first;
  assert.equal(calls, 2, 'two publishes during the write → one more write');
  await p.publishNow();
  assert.equal(calls, 3);
  assert.equal(errors.length, 1);
  assert.equal(p.published, 2);
  await p.stop();
});

test('periodic refresh', async () => {
  let writes = 0;
  const p = new TunnelStatusPublisher({ record: () => record(1), write: async () => void writes++, periodMs: 10 });
  p.start();
  await waitFor('three writes', () => writes >= 3, 2500, 5);
  await p.stop();
  const after = writes;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(writes, after);
});
