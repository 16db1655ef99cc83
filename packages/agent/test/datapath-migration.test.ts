/**
 * The fast migration path: a VM's MAC reappears on another host, announced by
 * QEMU-style RARP; every VTEP that receives the broadcast re-points the MAC at
 * once by data-plane learning, and the old host reports the MAC gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRarpAnnounce } from '@dvs/wire';
import type { DataPathEvents } from '../src/datapath/index.js';
import { BROADCAST, frame, mac, settle } from './frames.js';
import { HOST_B, networkOnBoth, stopAll, twoHosts } from './two-hosts.js';

test('a RARP announcement from the new host moves the MAC on the old host at once', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100);
    const vmPortA = a.addPort({ name: 'vm-old', mode: 'access', vni: 100 });
    const peerPortA = a.addPort({ name: 'peer', mode: 'access', vni: 100 });
    const vmPortB = b.addPort({ name: 'vm-new', mode: 'access', vni: 100 });
    const vm = mac('52:54:00:12:34:56');
    const other = mac('02:00:00:00:00:07');
    vmPortA.inject(frame(BROADCAST, vm));
    peerPortA.inject(frame(vm, other));
    await settle();
    assert.equal(vmPortA.takeWritten().length, 1, 'before: the VM is on host A');
    vmPortB.takeWritten();

    const events: [string, unknown][] = [];
    a.dp.on('mac:move', (e: DataPathEvents['mac:move']) => events.push(['mac:move', e]));
    a.dp.on('mac:gone', (e: DataPathEvents['mac:gone']) => events.push(['mac:gone', e]));
    // The VM resumes on host B; its hypervisor announces it.
    b.dp.injectFrame('vm-new', buildRarpAnnounce(vm));
    await settle();
    assert.deepEqual(events, [
      ['mac:move', { vni: 100, mac: vm, from: 'vm-old', to: `${HOST_B}:4789` }],
      ['mac:gone', { vni: 100, mac: vm, port: 'vm-old' }],
    ]);
    const entry = a.dp.fdbEntries(100).find((e) => e.mac === '52:54:00:12:34:56');
    assert.equal(entry?.location, `${HOST_B}:4789`);
    assert.equal(entry?.moves, 1);
    // Traffic to the VM now goes to host B, not to the old port.
    peerPortA.inject(frame(vm, other, 60));
    await settle();
    assert.equal(vmPortA.takeWritten().length, 1, 'only the RARP broadcast reached the old port');
    assert.equal(vmPortB.takeWritten().length, 1, 'the unicast reached the VM on host B');
    assert.equal(a.dp.counters().fdb.moves, 1);
  } finally {
    stopAll(a, b);
  }
});
