// The MAC report rate limit between the data path and the etcd sync (report-throttle.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ReportThrottle, type MacEvents } from '../src/report-throttle.js';
import type { DataPathEvents } from '../src/datapath/index.js';

test('mac:local past the rate waits (one per MAC, coalesced); mac:gone passes at once and cancels a waiting report', async () => {
  const source = new EventEmitter() as EventEmitter & MacEvents;
  const throttle = new ReportThrottle(source, { ratePerSecond: 1000, burst: 10 });
  const locals: DataPathEvents['mac:local'][] = [];
  const gones: DataPathEvents['mac:gone'][] = [];
  throttle.on('mac:local', (e) => locals.push(e));
  throttle.on('mac:gone', (e) => gones.push(e));
  const start = Date.now();
  for (let mac = 1; mac <= 600; mac++) source.emit('mac:local', { vni: 100, mac, port: 'vm', seq: 0 });
  // The same MAC again while it waits: replaced, not queued twice.
  source.emit('mac:local', { vni: 100, mac: 600, port: 'vm', seq: 1 });
  // A burst passes at once (and what the rate refilled while the loop ran).
  const burstPassed = locals.length;
  assert.ok(burstPassed >= 10 && burstPassed <= 10 + (Date.now() - start) + 1, `${burstPassed} passed at once`);
  for (let mac = 301; mac <= 600; mac++) source.emit('mac:gone', { vni: 100, mac, port: 'vm' });
  assert.equal(gones.length, 300, 'withdrawals are never held back');
  assert.equal(throttle.status().waiting, 300 - burstPassed);
  assert.equal(throttle.status().coalesced, 301);
  // Within the bound of the rate while it drains...
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(locals.length <= 10 + Math.ceil(((Date.now() - start) * 1000) / 1000) + 1, `${locals.length} passed`);
  // ...and everything that still stands passes in the end, each MAC once.
  while (throttle.status().waiting > 0) await new Promise((r) => setTimeout(r, 20));
  assert.equal(locals.length, 300);
  assert.deepEqual(
    locals.map((e) => e.mac),
    Array.from({ length: 300 }, (_, i) => i + 1),
  );
  throttle.close();
  assert.equal(source.listenerCount('mac:local'), 0);
});
