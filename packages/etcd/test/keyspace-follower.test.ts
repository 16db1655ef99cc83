// KeyspaceFollower against a real etcd (and a proxy that cuts it off): the
// initial read, the watch from R+1, the range it follows and nothing else, an
// outage announced once, and a resync when the revision it would resume from
// was compacted away meanwhile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@dvs/test-support';
import { Etcd3 } from 'etcd3';
import { KeyspaceFollower, createEtcdClient, type FollowedKv, type KeyspaceSink } from '../src/index.js';
import { EtcdServer, TcpProxy } from '../src/testing/index.js';

let etcd: EtcdServer;
let writer: Etcd3;

before(async () => {
  etcd = await EtcdServer.start();
  writer = new Etcd3({ hosts: etcd.endpoint });
});

after(async () => {
  writer.close();
  await etcd.stop();
});

/** A sink that mirrors what it is told, and counts what happened. */
class Mirror implements KeyspaceSink {
  readonly kvs = new Map<string, string>();
  resets = 0;
  flushes = 0;
  lastRevision = 0;
  reset(kvs: FollowedKv[], revision: number): void {
    this.resets++;
    this.kvs.clear();
    for (const kv of kvs) this.kvs.set(kv.key, kv.value.toString());
    this.lastRevision = revision;
  }
  put(kv: FollowedKv): void {
    this.kvs.set(kv.key, kv.value.toString());
    this.lastRevision = kv.modRevision;
  }
  delete(key: string, revision: number): void {
    this.kvs.delete(key);
    this.lastRevision = revision;
  }
  flush(): void {
    this.flushes++;
  }
  has(key: string, value: string): true | undefined {
    return this.kvs.get(key) === value ? true : undefined;
  }
}

test('a prefix: everything under it at R, then every change from R+1, nothing outside it', async () => {
  await writer.put('/p1/a').value('1');
  await writer.put('/p1/b').value('2');
  await writer.put('/p10/outside').value('x');
  const client = createEtcdClient({ endpoints: [etcd.endpoint] });
  const mirror = new Mirror();
  const follower = new KeyspaceFollower(client, { prefix: '/p1/' }, mirror);
  const ups: number[] = [];
  follower.on('etcd:up', (revision) => ups.push(revision));
  try {
    follower.start();
    await waitFor('the initial read', () => (mirror.resets === 1 ? true : undefined));
    assert.deepEqual(
      [...mirror.kvs],
      [
        ['/p1/a', '1'],
        ['/p1/b', '2'],
      ],
    );
    assert.equal(follower.loads, 1);
    await writer.put('/p1/c').value('3');
    await writer.delete().key('/p1/a');
    await writer.put('/p10/outside').value('y');
    await waitFor('the watch delivered /p1/c and the delete', () =>
      mirror.has('/p1/c', '3') && !mirror.kvs.has('/p1/a') ? true : undefined,
    );
    assert.ok(mirror.flushes >= 1, 'flush() after each watch response');
    assert.deepEqual([...mirror.kvs.keys()].sort(), ['/p1/b', '/p1/c']);
    assert.ok(follower.live);
    assert.equal(ups.length, 1, 'one etcd:up when it became live');
  } finally {
    await follower.stop();
    client.close();
  }
});

test('a key range [start, end): only the keys inside it', async () => {
  for (const k of ['/r/a', '/r/b', '/r/c']) await writer.put(k).value(k);
  const client = createEtcdClient({ endpoints: [etcd.endpoint] });
  const mirror = new Mirror();
  const follower = new KeyspaceFollower(client, { start: '/r/b', end: '/r/c' }, mirror);
  try {
    follower.start();
    await waitFor('the initial read', () => (mirror.resets === 1 ? true : undefined));
    await writer.put('/r/bb').value('new');
    await writer.put('/r/c').value('outside');
    await waitFor('/r/bb', () => mirror.has('/r/bb', 'new'));
    assert.deepEqual([...mirror.kvs.keys()].sort(), ['/r/b', '/r/bb']);
  } finally {
    await follower.stop();
    client.close();
  }
});

test('cut off while the keyspace is compacted: the outage is announced once, then a resync brings the mirror level', async () => {
  const proxy = await TcpProxy.start(Number(new URL(etcd.endpoint).port));
  const client = createEtcdClient({ endpoints: [proxy.endpoint], callTimeoutMs: 500 });
  const mirror = new Mirror();
  const follower = new KeyspaceFollower(client, { prefix: '/c/' }, mirror, {
    label: 'test keys',
    backoff: { minMs: 50, maxMs: 200 },
  });
  const downs: string[] = [];
  const resyncs: string[] = [];
  follower.on('etcd:down', (_err, during) => downs.push(during));
  follower.on('keyspace:resync', (reason) => resyncs.push(reason));
  try {
    await writer.put('/c/kept').value('1');
    await writer.put('/c/gone').value('1');
    follower.start();
    await waitFor('the initial read', () => (mirror.resets === 1 ? true : undefined));

    proxy.cut();
    await waitFor('etcd:down', () => (downs.length > 0 ? true : undefined));
    await writer.delete().key('/c/gone');
    await writer.put('/c/new').value('2');
    const head = await writer.get('/c/kept').exec();
    await writer.kv.compact({ revision: head.header.revision, physical: true });
    // Retries fail meanwhile, but the outage was announced once.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(downs.length, 1, `one etcd:down, got ${JSON.stringify(downs)}`);
    assert.match(downs[0]!, /^(reading|watching) test keys$/);
    assert.ok(mirror.kvs.has('/c/gone'), 'the mirror keeps what it had while cut off');

    proxy.restore();
    await waitFor(
      'the mirror level with etcd again',
      () => (mirror.has('/c/new', '2') && !mirror.kvs.has('/c/gone') ? true : undefined),
      15_000,
    );
    assert.ok(follower.live);
    assert.ok(follower.loads >= 2 && resyncs.length >= 1, `a resync: loads ${follower.loads}, resyncs ${resyncs}`);
    assert.ok(follower.revision >= Number(head.header.revision));
  } finally {
    await follower.stop();
    client.close();
    await proxy.close();
  }
});

test('four followers on one client, cut off and compacted five times: every mirror comes level each time', async () => {
  const proxy = await TcpProxy.start(Number(new URL(etcd.endpoint).port));
  const client = createEtcdClient({ endpoints: [proxy.endpoint], callTimeoutMs: 500 });
  const prefixes = ['/m0/', '/m1/', '/m2/', '/m3/'];
  const mirrors = prefixes.map(() => new Mirror());
  const followers = prefixes.map(
    (prefix, i) =>
      new KeyspaceFollower(client, { prefix }, mirrors[i]!, { label: prefix, backoff: { minMs: 50, maxMs: 200 } }),
  );
  try {
    for (const prefix of prefixes) await writer.put(`${prefix}round`).value('0');
    for (const f of followers) f.start();
    await waitFor('the initial reads', () => (mirrors.every((m) => m.resets >= 1) ? true : undefined));
    for (let round = 1; round <= 5; round++) {
      proxy.cut();
      for (const prefix of prefixes) await writer.put(`${prefix}round`).value(String(round));
      const head = await writer.get('/m0/round').exec();
      await writer.kv.compact({ revision: head.header.revision, physical: true });
      proxy.restore();
      await waitFor(
        `round ${round}: every mirror level`,
        () => (prefixes.every((p, i) => mirrors[i]!.has(`${p}round`, String(round))) ? true : undefined),
        15_000,
      );
      // The watches work again after the resync, not only the reads.
      for (const prefix of prefixes) await writer.put(`${prefix}after`).value(String(round));
      await waitFor(`round ${round}: every watch delivers`, () =>
        prefixes.every((p, i) => mirrors[i]!.has(`${p}after`, String(round))) ? true : undefined,
      );
    }
  } finally {
    await Promise.all(followers.map((f) => f.stop()));
    client.close();
    await proxy.close();
  }
});

test('cut off without a compaction: the writes made meanwhile all arrive, in order, once it is back', async () => {
  const proxy = await TcpProxy.start(Number(new URL(etcd.endpoint).port));
  const client = createEtcdClient({ endpoints: [proxy.endpoint], callTimeoutMs: 500 });
  const mirror = new Mirror();
  const follower = new KeyspaceFollower(client, { prefix: '/n/' }, mirror, { backoff: { minMs: 50, maxMs: 200 } });
  try {
    await writer.put('/n/a').value('1');
    follower.start();
    await waitFor('the initial read', () => (mirror.resets === 1 ? true : undefined));
    for (let round = 0; round < 3; round++) {
      proxy.cut();
      await writer.put('/n/a').value(`cut ${round}`);
      await writer.put(`/n/k${round}`).value('x');
      proxy.restore();
      await waitFor(`round ${round}`, () =>
        mirror.has('/n/a', `cut ${round}`) && mirror.has(`/n/k${round}`, 'x') ? true : undefined,
      );
    }
    assert.deepEqual([...mirror.kvs.keys()].sort(), ['/n/a', '/n/k0', '/n/k1', '/n/k2']);
  } finally {
    await follower.stop();
    client.close();
    await proxy.close();
  }
});
