// A watch response for a watch etcd3 no longer holds, on a real watch stream
// to a real etcd: etcd3 alone throws it out of the stream's data handler (a
// daemon would crash on it); with the guard createEtcdClient installs it is
// counted and dropped, and the live watch keeps delivering.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { waitFor } from '@dvs/test-support';
import { Etcd3, type Watcher } from 'etcd3';
import { createEtcdClient, strayWatchResponses, watchResponseGuardInstalled } from '../src/index.js';
import { EtcdServer } from '../src/testing/index.js';

let etcd: EtcdServer;

before(async () => {
  etcd = await EtcdServer.start();
});

after(async () => {
  await etcd.stop();
});

/** The watch stream etcd3 holds for `client` (private in its typings). */
function watchStream(client: Etcd3): EventEmitter {
  const manager = (client as unknown as { watchManager: { stream?: EventEmitter } }).watchManager;
  assert.ok(manager.stream instanceof EventEmitter, 'the client has a watch stream');
  return manager.stream;
}

async function connectedWatcher(client: Etcd3, prefix: string): Promise<{ watcher: Watcher; seen: string[] }> {
  const watcher = await client.watch().prefix(prefix).create();
  const seen: string[] = [];
  watcher.on('put', (kv) => seen.push(kv.key.toString()));
  return { watcher, seen };
}

const strayEvent = { created: false, canceled: false, watch_id: '987654', events: [], header: { revision: '1' } };
const strayCreate = { created: true, canceled: false, watch_id: '987655', events: [], header: { revision: '1' } };

test('a response for an unknown watch: etcd3 alone throws it; with the guard it is dropped and counted, and the live watch goes on', async () => {
  // Before any createEtcdClient in this process: etcd3 as published.
  const bare = new Etcd3({ hosts: etcd.endpoint });
  try {
    const { watcher } = await connectedWatcher(bare, '/bare/');
    assert.throws(() => watchStream(bare).emit('data', strayEvent), /Failed to find watcher/);
    // etcd3's close() leaves a watch re-attaching: cancel it first.
    await watcher.cancel();
  } finally {
    bare.close();
  }

  const client = createEtcdClient({ endpoints: [etcd.endpoint] });
  try {
    assert.equal(watchResponseGuardInstalled(), true);
    const { watcher, seen } = await connectedWatcher(client, '/guarded/');
    const before = strayWatchResponses();
    const stream = watchStream(client);
    assert.doesNotThrow(() => stream.emit('data', strayEvent));
    assert.doesNotThrow(() => stream.emit('data', strayCreate));
    assert.equal(strayWatchResponses(), before + 2);
    await client.put('/guarded/a').value('1');
    await waitFor('the live watch to deliver the put', () => seen.includes('/guarded/a'));
    await watcher.cancel();
  } finally {
    client.close();
  }
});
