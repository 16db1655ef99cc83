import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFrameDevice } from '@dvs/netdev/testing';
import { SegmentingPortDevice } from '../src/datapath/segmenting-port-device.js';
import { BROADCAST, frame, mac, settle } from './frames.js';
import { networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

const VNET_HEADER_LENGTH = 10;
const VM = mac('02:00:00:00:00:01');

test('a port with headers but without coalescing (attached, offloads off) reserves no super-frame storage and still carries frames', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const attached = new FakeFrameDevice({ name: 'vm-veth', vnetHeaderLength: VNET_HEADER_LENGTH });
    const port = new SegmentingPortDevice(attached, { coalesce: false });
    a.dp.addPort({ name: 'vm-veth', mode: 'access', vni: 100 }, port);
    const from = a.addPort({ name: 'vm2', mode: 'access', vni: 100 });

    assert.equal(port.writer.superFrameBytes, 0, 'nothing reserved for coalescing');

    from.inject(frame(BROADCAST, VM));
    from.inject(frame(BROADCAST, VM, 200));
    await settle();
    const written = attached.takeWrittenWithHeaders();
    assert.equal(written.length, 2, 'both frames written');
    for (const w of written)
      assert.ok(
        w.subarray(0, VNET_HEADER_LENGTH).every((x) => x === 0),
        'behind a zero header',
      );
    assert.deepEqual(written[0].subarray(VNET_HEADER_LENGTH), frame(BROADCAST, VM));
    assert.deepEqual(written[1].subarray(VNET_HEADER_LENGTH), frame(BROADCAST, VM, 200));
    assert.deepEqual(port.writer.counters, { coalesced: 0, coalescedSegments: 0, writeDrops: 0 });

    const coalescing = new SegmentingPortDevice(new FakeFrameDevice({ vnetHeaderLength: VNET_HEADER_LENGTH }));
    assert.ok(coalescing.writer.superFrameBytes > 0, 'with coalescing the storage is there');
    coalescing.close();
  } finally {
    stopAll(a, b);
  }
});
