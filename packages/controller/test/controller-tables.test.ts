import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFdbEntry, encodeFdbEntry, encodeNetwork, KeyLayout, RecordError, type FdbEntryRecord } from '@dvs/wire';
import { sampleNetwork } from '@dvs/wire/testing';
import { Etcd3 } from 'etcd3';
import type { Controller } from '../src/index.js';
import { EtcdServer } from '@dvs/etcd/testing';
import { api, startController } from './support/controller-harness.js';
import { FakeAgent } from './support/fake-agent.js';
import { waitFor } from '@dvs/test-support';

const MAC = '02:00:00:00:0a:01';
let etcd: EtcdServer;
let controller: Controller;
let client: Etcd3;
const keys = new KeyLayout();

async function entry(mac = MAC, vni = 100): Promise<FdbEntryRecord | null> {
  const buf = await client.get(keys.fdb(vni, mac)).buffer();
  if (buf === null) return null;
  const r = decodeFdbEntry(buf);
  assert.ok(!(r instanceof RecordError), String(r));
  return r;
}

function entryWhere(
  what: string,
  ok: (e: FdbEntryRecord | null) => boolean,
  mac = MAC,
): Promise<FdbEntryRecord | null> {
  return waitFor(what, async () => {
    const e = await entry(mac);
    return ok(e) ? { e } : undefined;
  }).then((v) => v.e);
}

before(async () => {
  etcd = await EtcdServer.start();
  client = new Etcd3({ hosts: etcd.endpoint });
  controller = await startController(etcd.endpoint, 'ctl-tables');
  await waitFor('leadership', () => (controller.isLeader ? true : undefined));
  assert.equal((await api(controller, 'POST', '/v1/networks', { vni: 100, name: 'blue' })).status, 201);
});

after(async () => {
  client?.close();
  await controller?.stop();
  await etcd?.stop();
});

test('MAC move: the host reporting seq+1 wins; the table shows it with the higher seq', async () => {
  const a = new FakeAgent(etcd.endpoint, 'host-a', '192.0.2.1');
  const b = new FakeAgent(etcd.endpoint, 'host-b', '192.0.2.2');
  try {
    await a.register([{ port: 'tap0', vni: 100 }]);
    await b.register([{ port: 'tap0', vni: 100 }]);
    await a.report(100, MAC, 0);
    const first = await entryWhere('entry at host-a', (e) => e?.host === 'host-a');
    assert.equal(first?.seq, 0);
    await b.report(100, MAC, first!.seq + 1); // the VM resumed on host-b
    const moved = await entryWhere('entry at host-b', (e) => e?.host === 'host-b');
    assert.equal(moved?.seq, 1);
    assert.deepEqual(moved?.vtep, { address: '192.0.2.2', port: 4789 });
    assert.equal(moved?.moves, 1);
    await a.withdraw(100, MAC); // host-a drops its stale report
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await entry())?.host, 'host-b');
  } finally {
    await a.close();
    await b.close();
  }
});

test('race: two hosts claim a MAC with the same seq; the lowest VTEP wins, every time', async () => {
  const outcomes: string[] = [];
  for (let round = 0; round < 3; round++) {
    const mac = `02:00:00:00:0b:0${round}`;
    const hi = new FakeAgent(etcd.endpoint, `race-hi-${round}`, '192.0.2.100');
    const lo = new FakeAgent(etcd.endpoint, `race-lo-${round}`, '192.0.2.20');
    try {
      await hi.register([{ port: 'tap0', vni: 100 }]);
      await lo.register([{ port: 'tap0', vni: 100 }]);
      // Both at once, in alternating order, at the highest seq a new MAC may have (0 + 1).
      const claims = [hi.report(100, mac, 1), lo.report(100, mac, 1)];
      if (round % 2 === 1) claims.reverse();
      await Promise.all(claims);
      const e = await entryWhere('race decided', (x) => x !== null && x.seq === 1, mac);
      await new Promise((r) => setTimeout(r, 100));
      outcomes.push((await entry(mac))!.host!);
      assert.equal(e?.seq, 1);
    } finally {
      await hi.close();
      await lo.close();
    }
  }
  assert.deepEqual(outcomes, ['race-lo-0', 'race-lo-1', 'race-lo-2']);
});

test('dampening: a MAC bounced 6 times is frozen and shown as duplicate', async () => {
  const mac = '02:00:00:00:0c:01';
  const a = new FakeAgent(etcd.endpoint, 'bounce-a', '192.0.2.31');
  const b = new FakeAgent(etcd.endpoint, 'bounce-b', '192.0.2.32');
  try {
    await a.register([{ port: 'tap0', vni: 100 }]);
    await b.register([{ port: 'tap0', vni: 100 }]);
    await a.report(100, mac, 0);
    await entryWhere('first location', (e) => e?.host === 'bounce-a', mac);
    let seq = 0;
    for (let i = 1; i <= 6; i++) {
      const to = i % 2 === 1 ? b : a;
      seq++;
      await to.report(100, mac, seq);
      if (i < 6) await entryWhere(`move ${i}`, (e) => e?.host === to.host && e.seq === seq, mac);
    }
    const frozen = await entryWhere('duplicate', (e) => e?.duplicate === true, mac);
    assert.equal(frozen?.host, 'bounce-b', 'frozen at the location before the 6th move');
    assert.match(frozen!.reason, /duplicate: 6 moves/);
    const view = await api<{ entries: { duplicate: boolean; mac: string }[] }>(
      controller,
      'GET',
      '/v1/fdb?duplicate=true',
    );
    assert.ok(view.body.entries.some((e) => e.mac === mac));
    const status = await api<{ problems: { kind: string; mac?: string }[] }>(controller, 'GET', '/v1/status');
    assert.ok(status.body.problems.some((p) => p.kind === 'duplicate-mac' && p.mac === mac));
    // Clearing through the API releases it to the best current claim.
    const cleared = await api(controller, 'POST', `/v1/fdb/100/${mac}/clear`);
    assert.equal(cleared.status, 200);
    const released = await entryWhere('released', (e) => e !== null && !e.duplicate, mac);
    assert.equal(released?.host, 'bounce-a');
    assert.equal(released?.seq, 6);
  } finally {
    await a.close();
    await b.close();
  }
});

test('lease expiry: a crashed host is kept stale, not ejected, until the probes of another host see it down', async () => {
  const mac = '02:00:00:00:0d:01';
  const survivor = new FakeAgent(etcd.endpoint, 'stays', '192.0.2.41', 2);
  const victim = new FakeAgent(etcd.endpoint, 'dies', '192.0.2.42', 2);
  const flood = async (): Promise<(string | null)[]> => {
    const res = await api<{ floodLists: { members: { host: string | null }[] }[] }>(
      controller,
      'GET',
      '/v1/flood?vni=100',
    );
    return res.body.floodLists[0]?.members.map((m) => m.host) ?? [];
  };
  const hostState = async (name: string): Promise<string | undefined> =>
    (await api<{ hosts: { host: string; state: string }[] }>(controller, 'GET', '/v1/hosts')).body.hosts.find(
      (h) => h.host === name,
    )?.state;
  try {
    await survivor.register([{ port: 'tap0', vni: 100 }]);
    await victim.register([{ port: 'tap0', vni: 100 }]);
    await victim.report(100, mac, 0);
    await entryWhere('victim entry', (e) => e?.host === 'dies', mac);
    await waitFor('victim in flood list', async () => ((await flood()).includes('dies') ? true : undefined));
    // The survivor's probes still reach the victim (its underlay is fine; it lost etcd).
    await survivor.tunnelStatus([{ host: 'dies', address: '192.0.2.42', state: 'up' }]);
    victim.crash();

    // Its lease runs out: its entry is kept, marked stale; it stays in the flood list.
    const stale = await entryWhere('victim entry stale', (e) => e?.stale === true, mac);
    assert.equal(stale?.host, 'dies');
    assert.ok((await flood()).includes('dies'), 'a stale host stays in the flood list');
    assert.equal(await hostState('dies'), 'stale');
    const status = await api<{
      hosts: { stale: number };
      fdb: { stale: number };
      problems: { kind: string; host?: string }[];
    }>(controller, 'GET', '/v1/status');
    assert.equal(status.body.hosts.stale, 1);
    assert.equal(status.body.fdb.stale, 1);
    assert.ok(status.body.problems.some((p) => p.kind === 'host-stale' && p.host === 'dies'));

    // The survivor's probes now see it down too: its entries go.
    await survivor.tunnelStatus([{ host: 'dies', address: '192.0.2.42', state: 'down' }]);
    await entryWhere('victim MAC removed', (e) => e === null, mac);
    await waitFor(
      'victim out of the flood list',
      async () => {
        const hosts = await flood();
        return !hosts.includes('dies') && hosts.includes('stays') ? true : undefined;
      },
      8000,
    );
    assert.equal(await hostState('dies'), 'down');
  } finally {
    await survivor.close();
  }
});

test('a fresh controller over an existing keyspace reconciles without wiping', async () => {
  const prefix = '/dvs-existing/';
  const k = new KeyLayout(prefix);
  const staticEntry: FdbEntryRecord = {
    vni: 7,
    mac: '02:00:00:00:0f:01',
    host: null,
    vtep: { address: '203.0.113.7', port: 4789 },
    seq: 0,
    ips: [],
    origin: 'static',
    moves: 0,
    duplicate: false,
    reason: '',
    updatedAt: 1,
  };
  await client
    .put(k.network(7))
    .value(
      encodeNetwork(
        sampleNetwork(7, { name: 'old', description: 'made before the controller', createdAt: 1, updatedAt: 1 }),
      ),
    );
  await client.put(k.fdb(7, staticEntry.mac)).value(encodeFdbEntry(staticEntry));
  await client
    .put(k.fdb(7, '02:00:00:00:0f:02'))
    .value(encodeFdbEntry({ ...staticEntry, mac: '02:00:00:00:0f:02', origin: 'report', host: 'gone' }));
  await client.put(prefix + 'unrelated/key').value('kept');
  const second = await startController(etcd.endpoint, 'ctl-existing', { prefix });
  try {
    await waitFor('leadership', () => (second.isLeader ? true : undefined));
    await waitFor('flood list created and stale learned entry removed', async () => {
      const flood = await client.get(k.flood(7)).buffer();
      const stale = await client.get(k.fdb(7, '02:00:00:00:0f:02')).buffer();
      return flood !== null && stale === null ? true : undefined;
    });
    assert.notEqual(await client.get(k.network(7)).buffer(), null);
    const kept = decodeFdbEntry((await client.get(k.fdb(7, staticEntry.mac)).buffer())!);
    assert.deepEqual(kept, staticEntry);
    assert.equal(await client.get(prefix + 'unrelated/key').string(), 'kept');
  } finally {
    await second.stop();
  }
});
