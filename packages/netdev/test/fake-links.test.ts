import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch, isNetdevError } from '../src/index.js';
import { FakeLinks } from '../src/testing/index.js';
import type { LinkMonitor } from '../src/index.js';
import { place, testFrame } from './compliance/frames.js';
import { waitFor } from '@dvs/test-support';

// FakeLinks: what an agent unit test uses to simulate a device that goes and
// comes back, with the events and refusals of the real thing.

function record(monitor: LinkMonitor): string[] {
  const events: string[] = [];
  for (const event of ['link:new', 'link:up', 'link:down', 'link:del'] as const) {
    monitor.on(event, (link) => events.push(`${event} ${link.name}#${link.ifindex}`));
  }
  monitor.on('link:change', (link, previous) =>
    events.push(`link:change ${link.name} mtu ${previous.mtu}→${link.mtu}`),
  );
  return events;
}

test('a device that goes and comes back: events, gone, refusals, a new ifindex', async () => {
  const links = new FakeLinks();
  const vm = links.add('vm1', { mtu: 1400 });
  const monitor = links.openMonitor();
  assert.equal(monitor.get('vm1')?.ifindex, vm.ifindex, 'the monitor starts with the table');
  const events = record(monitor);
  const port = links.open({ name: 'vm1' });
  assert.equal(port.kind, 'tap');
  assert.equal(port.mtu, 1400);

  let readError: unknown = null;
  port.onReadable(() => {
    try {
      port.read(new PacketBatch(4, 256), 0);
    } catch (err) {
      readError = err;
    }
  });
  links.setUp('vm1', false);
  const batch = new PacketBatch(1, 256);
  place(batch, 0, testFrame(1), 0);
  assert.equal(port.write(batch, [0], 1), 1);
  assert.equal(port.stats.writeDropsLinkDown, 1);
  links.setUp('vm1', true);
  links.setMtu('vm1', 1300);
  assert.equal(port.mtu, 1300);

  links.remove('vm1');
  await waitFor('the readable handler to hear the device is gone', () => readError !== null, 5000, 2);
  assert.ok(isNetdevError(readError, 'DVS_DEVICE_GONE'));
  assert.equal(port.gone, true);
  assert.equal(port.write(batch, [0], 1), 1);
  assert.equal(port.stats.writeDropsLinkDown, 2);
  port.close();
  assert.throws(
    () => links.open({ name: 'vm1' }),
    (err) => isNetdevError(err, 'DVS_NO_DEVICE') && /no device vm1 in this network namespace/.test(err.message),
  );

  const back = links.add('vm1');
  assert.notEqual(back.ifindex, vm.ifindex);
  await links.settle();
  assert.deepEqual(events, [
    `link:down vm1#${vm.ifindex}`,
    `link:up vm1#${vm.ifindex}`,
    'link:change vm1 mtu 1400→1300',
    `link:del vm1#${vm.ifindex}`,
    `link:new vm1#${back.ifindex}`,
  ]);
  const again = links.open({ name: 'vm1' });
  assert.equal(again.gone, false);
  again.close();
  monitor.close();
});

test('refusals as the real attach: the loopback, a non-Ethernet device, a bad name', () => {
  const links = new FakeLinks();
  links.add('tun0', { kind: 'tun', ethernet: false });
  assert.throws(
    () => links.open({ name: 'lo' }),
    (err) => isNetdevError(err, 'DVS_DEVICE_UNSUITABLE'),
  );
  assert.throws(
    () => links.open({ name: 'tun0' }),
    (err) => isNetdevError(err, 'DVS_DEVICE_UNSUITABLE'),
  );
  assert.throws(
    () => links.open({ name: 'x'.repeat(16) }),
    (err) => isNetdevError(err, 'DVS_NAME_TOO_LONG'),
  );
});
