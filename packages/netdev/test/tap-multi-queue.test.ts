import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { createSocket } from 'node:dgram';
import { PacketBatch, isNetdevError, openTapSync, openTunnelSocket, type TapDevice } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';

// Multi-queue TAPs (IFF_MULTI_QUEUE), the device side of one data-path worker
// per queue (docs/multi-core.md): the kernel spreads the flows it sends out
// of the TAP over the queues, and a queue is read and written from a worker
// thread's own event loop.

let ns: LabNamespace;
let seq = 0;
const uniqueName = (): string => `dvq${process.pid}q${seq++}`;
const UDP_PORT = 7777;
const PEER = '203.0.113.2';

before(() => {
  ns = new LabNamespace(`dvq${process.pid}m`);
});
after(() => ns.dispose());

/** Address on the TAP and a static neighbour: datagrams to PEER leave through the TAP, no ARP first. */
function route(name: string): void {
  ns.ip('addr', 'add', '203.0.113.1/24', 'dev', name);
  ns.ip('neigh', 'replace', PEER, 'lladdr', '02:00:00:00:71:02', 'dev', name, 'nud', 'permanent');
}

/** `count` datagrams to PEER:UDP_PORT, each from a new socket (its own source port: its own flow). */
function sendFlows(count: number): void {
  const script = `for i in $(seq ${count}); do echo flow$i > /dev/udp/${PEER}/${UDP_PORT}; done`;
  execFileSync('ip', ['netns', 'exec', ns.name, 'bash', '-c', script]);
}

/** The test's datagrams among what one queue has ready (IPv4, UDP, our port). */
function drainTestDatagrams(tap: TapDevice, batch: PacketBatch): number {
  let count = 0;
  for (let n = tap.read(batch, 0); n > 0; n = tap.read(batch, 0)) {
    for (let i = 0; i < n; i++) {
      const f = batch.buffer.subarray(i * batch.slotSize + batch.offsets[i]);
      const ipv4Udp = f[12] === 0x08 && f[13] === 0x00 && f[23] === 17;
      const ihl = (f[14] & 15) * 4;
      if (ipv4Udp && ((f[14 + ihl + 2] << 8) | f[14 + ihl + 3]) === UDP_PORT) count++;
    }
  }
  return count;
}

test('a multi-queue TAP opened twice has two queues, and several flows come out of both', () => {
  const name = uniqueName();
  const queues = ns.run(() => [openTapSync({ name, multiQueue: true }), openTapSync({ name, multiQueue: true })]);
  try {
    assert.equal(queues[0].existed, false);
    assert.equal(queues[1].existed, true);
    assert.match(ns.ip('-d', 'link', 'show', name), /multi_queue/);
    route(name);
    const flows = 40;
    sendFlows(flows);
    const batch = new PacketBatch(64, 2048);
    const perQueue = queues.map((q) => drainTestDatagrams(q, batch));
    // Every datagram came out of exactly one queue, and the flows were spread (2^-39 that 40 flows hash alike).
    assert.equal(perQueue[0] + perQueue[1], flows, `per queue: ${perQueue.join(', ')}`);
    assert.ok(perQueue[0] > 0 && perQueue[1] > 0, `per queue: ${perQueue.join(', ')}`);
  } finally {
    for (const q of queues) q.close();
  }
});

test('an open without multiQueue of a multi-queue TAP is refused', () => {
  const name = uniqueName();
  const first = ns.run(() => openTapSync({ name, multiQueue: true }));
  try {
    assert.throws(
      () => ns.run(() => openTapSync({ name })),
      (err) => isNetdevError(err) && /TUNSETIFF/.test((err as Error).message),
    );
  } finally {
    first.close();
  }
});

test('a worker thread reads and writes its own queue on its own event loop', async () => {
  const name = uniqueName();
  // A queue here keeps the device while the worker attaches its own; then it leaves, so every frame goes to the worker.
  const keeper = ns.run(() => openTapSync({ name, multiQueue: true }));
  route(name);
  const frame = new Uint8Array(60);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0x71, 0x03, 0x88, 0xb5]);
  const rxPackets = (): number =>
    (JSON.parse(ns.ip('-s', '-j', 'link', 'show', name)) as [{ stats64: { rx: { packets: number } } }])[0].stats64.rx
      .packets;
  const rxBefore = rxPackets();
  const worker = new Worker(new URL('./tap-queue-worker.js', import.meta.url), {
    workerData: { netns: ns.name, name, frame },
  });
  try {
    const [ready] = (await once(worker, 'message')) as [{ ready?: boolean }];
    assert.equal(ready.ready, true);
    keeper.close();
    const report = once(worker, 'message') as Promise<[{ read: number; written: number }]>;
    sendFlows(3);
    const [{ read, written }] = await report;
    assert.ok(read >= 1, `the worker read ${read} frames`);
    assert.equal(written, 1);
    const rxAfter = rxPackets();
    assert.equal(rxAfter - rxBefore, 1, 'the frame the worker wrote entered the TAP');
    worker.postMessage('close');
    await once(worker, 'exit');
  } finally {
    await worker.terminate();
    keeper.close();
  }
});

test('reusePort: tunnel sockets share one address and port, and the kernel spreads the sources over them', async () => {
  const first = await openTunnelSocket({ address: '127.0.0.1', port: 0, reusePort: true });
  const second = await openTunnelSocket({ address: '127.0.0.1', port: first.localPort, reusePort: true });
  try {
    await assert.rejects(openTunnelSocket({ address: '127.0.0.1', port: first.localPort }), (err) =>
      isNetdevError(err, 'DVS_ADDRESS_IN_USE'),
    );
    const sources = 40;
    for (let i = 0; i < sources; i++) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) =>
        s.send(Buffer.from(`from ${i}`), first.localPort, '127.0.0.1', () => resolve()),
      );
      s.close();
    }
    const batch = new PacketBatch(64, 2048);
    const received = [first, second].map((socket) => {
      let count = 0;
      for (let n = socket.recv(batch, 0); n > 0; n = socket.recv(batch, 0)) count += n;
      return count;
    });
    assert.equal(received[0] + received[1], sources, `per socket: ${received.join(', ')}`);
    assert.ok(received[0] > 0 && received[1] > 0, `per socket: ${received.join(', ')}`);
  } finally {
    first.close();
    second.close();
  }
});
