import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  PacketBatch,
  openAttachedDeviceSync,
  openDgramTunnelSocket,
  openFdbMonitor,
  openLinkMonitor,
  openRtnetlink,
  openTapSync,
  openTunnelSocketSync,
} from '../src/index.js';
import type { AttachBatching } from '../src/index.js';
import { parseIpv4Address } from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { LabNamespace } from '../src/testing/index.js';

// Opening and closing devices must give back every fd and not grow memory.
// Each cycle goes through the whole life: open, watch (uv_poll), close.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function rssAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}

const BATCHINGS: AttachBatching[] = ['mmsg', 'tpacket-v2', 'tpacket-v3'];

let ns: LabNamespace;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}l`);
});
after(() => ns.dispose());

/** Runs `cycles` in two halves; memory may settle in the first, must not keep growing in the second. */
async function assertNoLeak(what: string, cycles: number, cycle: (i: number) => void | Promise<void>): Promise<void> {
  const fdsBefore = openFds();
  for (let i = 0; i < cycles / 2; i++) await cycle(i);
  const rssHalf = rssAfterGc();
  for (let i = cycles / 2; i < cycles; i++) await cycle(i);
  await new Promise((resolve) => setImmediate(resolve));
  const rssEnd = rssAfterGc();
  assert.equal(openFds(), fdsBefore, `${what}: fd count back to where it started`);
  const growthMiB = (rssEnd - rssHalf) / 2 ** 20;
  assert.ok(growthMiB < 16, `${what}: RSS grew ${growthMiB.toFixed(1)} MiB over the last ${cycles / 2} cycles`);
}

test('1,000 TAP opens and closes (adopting a persistent TAP) leak no fd and no memory', async () => {
  const name = `dvn${process.pid}p`;
  ns.run(() => openTapSync({ name, persistent: true })).close();
  await assertNoLeak('adopt', 1000, () => {
    const tap = ns.run(() => openTapSync({ name, mtu: 1400 }));
    tap.onReadable(() => {});
    tap.close();
  });
  ns.run(() => openTapSync({ name, persistent: false })).close();
  assert.doesNotMatch(ns.ip('link', 'show'), new RegExp(name));
});

test('200 TAPs created and destroyed leak no fd, no memory and no device', async () => {
  // The kernel needs ~20 ms to unregister a net device, so this count stays
  // small; the adopt test above covers our side of open/close 1,000 times.
  await assertNoLeak('create', 200, (i) => {
    const tap = ns.run(() => openTapSync({ name: `dvn${process.pid}n${i}` }));
    tap.onReadable(() => {});
    tap.close();
  });
  assert.doesNotMatch(ns.ip('link', 'show'), /dvn\d+n\d+/);
});

test('1,000 attaches and closes (recvmmsg, TPACKET_V2 and V3 rings in turn) leak no fd, no memory, no mapping', async () => {
  const name = `dvn${process.pid}x`;
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  ns.ip('link', 'set', name, 'up');
  // A mapped ring shows as "socket:[inode]" in /proc/self/maps.
  const rings = (): number =>
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .filter((l) => /socket:\[/.test(l)).length;
  // Each cycle also opens and closes the namespace's link monitor (device-gone-watch.ts).
  await assertNoLeak('attach', 1000, (i) => {
    const port = ns.run(() => openAttachedDeviceSync({ name, batching: BATCHINGS[i % 3] }));
    if (i < 3) assert.equal(rings(), i === 0 ? 0 : 1, 'a ring is mapped while its port is open');
    port.onReadable(() => {});
    port.close();
  });
  assert.equal(rings(), 0, 'every ring unmapped');
  assert.match(ns.ip('-d', 'link', 'show', name), /promiscuity 0 /);
  ns.ip('link', 'del', name);
});

test('an attached device forgotten without close() is collected: its fd, its ring and the namespace watch go', async () => {
  const name = `dvn${process.pid}f`;
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  const fdsBefore = openFds();
  (() => {
    ns.run(() => openAttachedDeviceSync({ name, batching: 'tpacket-v3' }));
  })();
  assert.ok(openFds() > fdsBefore, 'the socket and the namespace link monitor are open');
  for (let i = 0; i < 20 && openFds() > fdsBefore; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(openFds(), fdsBefore);
  ns.ip('link', 'del', name);
});

test('500 link monitors leak no fd and no memory', async () => {
  await assertNoLeak('link monitor', 500, () => {
    const monitor = ns.run(() => openLinkMonitor());
    monitor.close();
  });
});

test('500 rtnetlink handles (every 50th creating a bridge, applying and dumping FDB entries) and 500 FDB monitors leak no fd and no memory', async () => {
  const bridge = `dvn${process.pid}r`;
  const port = `dvn${process.pid}q`;
  ns.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}p`);
  await assertNoLeak('rtnetlink', 500, (i) => {
    const rtnl = ns.run(() => openRtnetlink());
    if (i % 50 === 0) {
      rtnl.createBridge({ name: bridge });
      rtnl.setLink(port, { master: bridge });
      rtnl.applyFdbSync([{ op: 'add', device: port, table: 'master', mac: 0x020000000001 }]);
      assert.equal(rtnl.fdb({ master: bridge }).filter((e) => e.state === 'static').length, 1);
      rtnl.deleteLink(bridge);
    } else {
      rtnl.linkCounters([port]);
    }
    rtnl.close();
  });
  await assertNoLeak('fdb monitor', 500, () => {
    const monitor = ns.run(() => openFdbMonitor());
    monitor.close();
  });
  ns.ip('link', 'del', port);
});

test('1,000 native tunnel sockets (IPv4 and IPv6) leak no fd and no memory', async () => {
  await assertNoLeak('native sockets', 1000, (i) => {
    const s = openTunnelSocketSync({ address: i % 2 ? '::1' : '127.0.0.1', port: 0 });
    s.onReadable(() => {});
    s.close();
  });
});

test('1,000 dgram tunnel sockets leak no fd and no memory', async () => {
  await assertNoLeak('dgram sockets', 1000, async (i) => {
    const s = await openDgramTunnelSocket({ address: i % 2 ? '::1' : '127.0.0.1', port: 0 });
    s.onReadable(() => {});
    s.close();
    // dgram closes its handle on the next loop turn.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

test('forgotten unwatched devices are closed by the garbage collector; watched ones stay alive', async () => {
  const fdsBefore = openFds();
  const name = `dvn${process.pid}g`;
  ns.run(() => openTapSync({ name, persistent: true })).close();
  (() => {
    for (let i = 0; i < 50; i++) {
      openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
      ns.run(() => openTapSync({ name })).close(); // adopting needs the previous fd gone: closed explicitly
    }
    ns.run(() => openTapSync({ name })); // forgotten without close
  })();
  let received = 0;
  const { port, weak } = (() => {
    const watched = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
    watched.onReadable(() => (received += watched.recv(new PacketBatch(4, 256), 0)));
    // The only strong reference left is the watch itself.
    return { port: watched.localPort, weak: new WeakRef(watched) };
  })();
  for (let i = 0; i < 5 && openFds() > fdsBefore + 1; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(openFds(), fdsBefore + 1, 'only the watched socket is still open');
  const sender = openTunnelSocketSync({ address: '127.0.0.1', port: 0 });
  const batch = new PacketBatch(1, 256);
  batch.lengths[0] = 10;
  batch.setIpv4Destination(0, parseIpv4Address('127.0.0.1') as number, port);
  sender.send(batch, [0], 1);
  sender.close();
  await waitFor('the watched socket to receive', () => received === 1, 5000, 2);
  weak.deref()?.close();
  assert.equal(openFds(), fdsBefore);
  ns.run(() => openTapSync({ name, persistent: false })).close();
});
