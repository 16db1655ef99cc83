import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { EtcdServer } from '../src/testing/index.js';

test('etcd test server: start, put/get, halt + restart keeps data, pause/resume, stop removes data', async () => {
  const etcd = await EtcdServer.start();
  const client = new Etcd3({ hosts: etcd.endpoint, dialTimeout: 2000 });
  try {
    await client.put('/t/a').value('1');
    await etcd.halt();
    assert.equal(etcd.pid, null);
    await etcd.restart();
    assert.equal(await client.get('/t/a').string(), '1');
    etcd.pause();
    const res = await Promise.race([
      client.get('/t/a').string(),
      new Promise((resolve) => setTimeout(() => resolve('timeout'), 300)),
    ]);
    assert.equal(res, 'timeout', 'a paused server answers nothing');
    etcd.resume();
    assert.equal(await client.get('/t/a').string(), '1');
  } finally {
    client.close();
    await etcd.stop();
  }
  assert.equal(existsSync(etcd.dataDir), false);
  assert.equal(etcd.pid, null);
});

test('etcd test server: an aborted start rejects and leaves nothing behind', async () => {
  const controller = new AbortController();
  controller.abort(new Error('cancelled'));
  await assert.rejects(EtcdServer.start({ signal: controller.signal }));
});
