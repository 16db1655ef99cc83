import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderPorts } from '../src/admin/render-text.js';
import { ManagedPort } from '../src/ports/managed-port.js';
import { portMetricLines } from '../src/ports/port-metrics.js';
import { BROADCAST, frame, mac, settle } from './frames.js';
import { networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const SLOT_SIZE = 2048;
const VM1 = mac('02:00:00:00:00:01');

test('a frame longer than the read slot is dropped by the port device and counted as too-big on that port', async () => {
  const { a, b } = twoHosts({ slotSize: SLOT_SIZE });
  try {
    networkOnBoth(a, b, 100);
    const vm1 = a.addPort({ name: 'vm1', mode: 'access', vni: 100 });
    const vm2 = a.addPort({ name: 'vm2', mode: 'access', vni: 100 });

    // What a VM's TSO super-frame looks like to a device without a virtio-net header: one oversized frame.
    vm1.inject(frame(BROADCAST, VM1, SLOT_SIZE));
    vm1.inject(frame(BROADCAST, VM1));
    await settle();

    assert.equal(vm2.takeWritten().length, 1, 'the frame that fits is switched');
    const view = a.dp.portViews().find((p) => p.name === 'vm1');
    assert.deepEqual(view?.deviceDrops, { tooBig: 1 });
    assert.deepEqual(a.dp.portViews().find((p) => p.name === 'vm2')?.deviceDrops, { tooBig: 0 });
    assert.equal(a.dp.counters().drops['too-big'], 1);

    vm1.inject(frame(BROADCAST, VM1, SLOT_SIZE * 2));
    await settle();
    assert.deepEqual(a.dp.portViews().find((p) => p.name === 'vm1')?.deviceDrops, { tooBig: 2 }, 'charged once each');
    assert.equal(a.dp.counters().drops['too-big'], 2);

    const managed = new ManagedPort(
      { name: 'vm1', mapping: { mode: 'access', vni: 100 }, plug: 'attach', persistent: false },
      'config',
      0,
    );
    const view2 = a.dp.portViews().find((p) => p.name === 'vm1');
    const text = renderPorts([managed.view(view2)], 0);
    assert.match(text, /^vm1: dropped: too-big 2$/m);
    const metrics = portMetricLines('host-a', [managed.view(view2)], 0).join('\n');
    assert.match(metrics, /^dvs_agent_port_device_drops_total\{host="host-a",port="vm1",reason="too_big"\} 2$/m);
  } finally {
    stopAll(a, b);
  }
});
