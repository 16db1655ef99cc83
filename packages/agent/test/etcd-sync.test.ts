import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller } from '@dvs/controller';
import { EtcdServer, TcpProxy } from '@dvs/etcd/testing';
import { decodeHost, decodeReport, KeyLayout, RecordError } from '@dvs/wire';
import { Etcd3 } from 'etcd3';
import { EtcdSync, type EtcdSyncOptions } from '../src/etcd-sync/index.js';
import { CapturingLogger, FakeMacEvents, FakeSurface } from './etcd-sync-fakes.js';
import { waitFor } from '@dvs/test-support';

let etcd: EtcdServer;
let controller: Controller;
let client: Etcd3;
const keys = new KeyLayout();
const syncs: EtcdSync[] = [];

interface Agent {
  sync: EtcdSync;
  surface: FakeSurface;
  events: FakeMacEvents;
  log: CapturingLogger;
}

function agent(host: string, address: string, extra: Partial<EtcdSyncOptions> = {}): Agent {
  const surface = new FakeSurface();
  const events = new FakeMacEvents();
  surface.events = events;
  const log = new CapturingLogger();
  const sync = new EtcdSync({
    host,
    vtep: { address, port: 4789 },
    encaps: ['vxlan'],
    agentVersion: 'test',
    etcd: { endpoints: [etcd.endpoint], callTimeoutMs: 1000 },
    leaseTtlSeconds: 10,
    surface,
    events,
    log,
    ...extra,
  });
  syncs.push(sync);
  sync.start();
  sync.publishPorts([{ port: 'tap0', mode: 'access', bindings: [{ vni: 100, vlan: null }], state: 'up', macCount: 0 }]);
  return { sync, surface, events, log };
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(controller.address + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

before(async () => {
  etcd = await EtcdServer.start();
  client = new Etcd3({ hosts: etcd.endpoint });
  controller = await Controller.start({
    id: 'ctl',
    etcd: { endpoints: [etcd.endpoint] },
    listen: '127.0.0.1:0',
    api: { insecureLocal: true },
    electionTtlSeconds: 2,
  });
  await waitFor('leader', () => (controller.isLeader ? true : undefined));
  assert.equal((await api('POST', '/v1/networks', { vni: 100, name: 'blue' })).status, 201);
});

after(async () => {
  for (const s of syncs) await s.stop();
  client?.close();
  await controller?.stop();
  await etcd?.stop();
});

test('registers the host on a lease and follows the tables: peers see each other, MACs reach the other agent', async () => {
  const a = agent('host-a', '192.0.2.1');
  const b = agent('host-b', '192.0.2.2');
  await a.sync.ready();
  await b.sync.published();
  const hostBuf = await client.get(keys.host('host-a')).buffer();
  const host = decodeHost(hostBuf!);
  assert.ok(!(host instanceof RecordError));
  assert.deepEqual(host.vtep, { address: '192.0.2.1', port: 4789 });
  const leased = await client.get(keys.host('host-a')).exec();
  assert.notEqual(String(leased.kvs[0]!.lease), '0', 'host key is on a lease');

  await waitFor('a and b in each other flood lists', () =>
    a.surface.flood.get(100)?.includes('192.0.2.2:4789') && b.surface.flood.get(100)?.includes('192.0.2.1:4789')
      ? true
      : undefined,
  );
  assert.equal(a.surface.flood.get(100)?.includes('192.0.2.1:4789'), false, 'never its own peer');

  a.events.emit('mac:local', { vni: 100, mac: 0x0200000a0001, port: 'tap0', seq: 0 });
  const atB = await waitFor('b told where the MAC is', () => b.surface.where(100, '0200000a0001'));
  assert.deepEqual(atB, { vtep: '192.0.2.1:4789', seq: 0, static: false });
  assert.equal(a.surface.where(100, '0200000a0001'), undefined, 'a keeps its own MAC local');
  const status = a.sync.status();
  assert.equal(status.etcdUp, true);
  assert.equal(status.reports, 1);
  assert.equal(status.ports, 1);
  assert.equal(status.networks, 1);
  assert.ok(status.leaseId !== null && status.revision > 0);
});

test('MAC move: the new host reports seq+1, every agent follows, the old host withdraws its report', async () => {
  const c = agent('host-c', '192.0.2.3');
  const d = agent('host-d', '192.0.2.4');
  await Promise.all([c.sync.ready(), d.sync.ready()]);
  const mac = 0x0200000b0001;
  c.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  await waitFor('d knows the MAC at c', () =>
    d.surface.where(100, '0200000b0001')?.vtep === '192.0.2.3:4789' ? true : undefined,
  );
  // The VM resumes on d; d's data path saw it appear locally (its own seq would be 0 for a MAC it had only as control entry).
  d.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  const atC = await waitFor('c follows to d', () => {
    const w = c.surface.where(100, '0200000b0001');
    return w?.vtep === '192.0.2.4:4789' ? w : undefined;
  });
  assert.equal(atC.seq, 1);
  await waitFor('c withdrew its report', async () =>
    (await client.get(keys.report('host-c', 100, '02:00:00:0b:00:01')).buffer()) === null ? true : undefined,
  );
  const entry = await api('GET', '/v1/fdb?mac=02:00:00:0b:00:01');
  assert.deepEqual(
    (entry.body as { entries: { host: string; seq: number }[] }).entries.map((e) => [e.host, e.seq]),
    [['host-d', 1]],
  );
});

test('race: two agents claim a MAC at once; both end with the same answer (lowest VTEP)', async () => {
  const hi = agent('race-hi', '192.0.2.200');
  const lo = agent('race-lo', '192.0.2.100');
  const watcher = agent('race-watch', '192.0.2.150');
  await Promise.all([hi.sync.ready(), lo.sync.ready(), watcher.sync.ready()]);
  const mac = 0x0200000c0001;
  // Both data paths hold the MAC locally; an entry naming the other host displaces it (mac:gone), as DataPath does on a tie.
  hi.surface.local.add('100/0200000c0001');
  lo.surface.local.add('100/0200000c0001');
  hi.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  lo.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  await waitFor('hi and watcher agree on lo', () =>
    hi.surface.where(100, '0200000c0001')?.vtep === '192.0.2.100:4789' &&
    watcher.surface.where(100, '0200000c0001')?.vtep === '192.0.2.100:4789'
      ? true
      : undefined,
  );
  assert.notEqual(
    await client.get(keys.report('race-lo', 100, '02:00:00:0c:00:01')).buffer(),
    null,
    'the winner keeps its report, whatever order the controller saw the claims in',
  );
  await waitFor('the loser withdrew', async () =>
    (await client.get(keys.report('race-hi', 100, '02:00:00:0c:00:01')).buffer()) === null ? true : undefined,
  );
});

test('under each lease the host record comes first, and a report never claims more than the table seq + 1', async () => {
  const seen: { key: string; lease: string }[] = [];
  const watcher = await client.watch().prefix(keys.prefix).create();
  watcher.on('put', (kv) => seen.push({ key: kv.key.toString(), lease: String(kv.lease) }));
  try {
    const n = agent('order-n', '192.0.2.60');
    // The data path counted moves the table never saw: seq 9 for a MAC the table does not know.
    n.events.emit('mac:local', { vni: 100, mac: 0x020000100001, port: 'tap0', seq: 9 });
    await n.sync.published();
    await waitFor('report seen', () =>
      seen.some((s) => s.key.startsWith(keys.reportsOf('order-n'))) ? true : undefined,
    );
    const lease = seen.find((s) => s.key === keys.host('order-n'))?.lease;
    const first = seen.find((s) => s.lease === lease);
    assert.equal(first?.key, keys.host('order-n'), 'nothing rides on the lease before the host record');
    const entry = await waitFor('the controller took the report', async () => {
      const res = await api('GET', '/v1/fdb?mac=02:00:00:10:00:01');
      return (res.body as { entries: { host: string; seq: number }[] }).entries[0];
    });
    assert.deepEqual([entry.host, entry.seq], ['order-n', 1], 'no entry: at most 1, which the controller accepts');
  } finally {
    await watcher.cancel();
  }
});

test('a report the table stops placing is lowered to what the controller accepts, and counts again', async () => {
  const g = agent('lower-g', '192.0.2.62');
  const h = agent('lower-h', '192.0.2.63');
  await Promise.all([g.sync.ready(), h.sync.ready()]);
  const mac = 0x020000110001;
  const text = '02:00:00:11:00:01';
  const at = (host: string, seq: number) => async () => {
    const res = await api('GET', `/v1/fdb?mac=${text}`);
    const e = (res.body as { entries: { host: string; seq: number }[] }).entries[0];
    return e?.host === host && e.seq === seq ? true : undefined;
  };
  const reportSeq = async (host: string) => {
    const buf = await client.get(keys.report(host, 100, text)).buffer();
    const r = buf === null ? null : decodeReport(buf);
    return r === null || r instanceof RecordError ? null : r.seq;
  };
  // Bounced g → h → g → h: the entry ends at h with seq 3.
  for (const [who, name, seq] of [
    [g, 'lower-g', 0],
    [h, 'lower-h', 1],
    [g, 'lower-g', 2],
    [h, 'lower-h', 3],
  ] as const) {
    if (seq > 0)
      await waitFor(`${name} told the entry is elsewhere at seq ${seq - 1}`, () =>
        who.surface.where(100, '020000110001')?.seq === seq - 1 ? true : undefined,
      );
    who.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
    await waitFor(`entry at ${name}, seq ${seq}`, at(name, seq));
  }
  assert.equal(await reportSeq('lower-h'), 3);
  // Network 100 now admits only g, which withdrew its report: no claim is left, the entry goes,
  // and h lowers its report to what the controller accepts for a MAC without an entry.
  assert.equal((await api('PATCH', '/v1/networks/100', { allowedHosts: ['lower-g'] })).status, 200);
  try {
    await waitFor('h lowered its report', async () => ((await reportSeq('lower-h')) === 1 ? true : undefined));
  } finally {
    assert.equal((await api('PATCH', '/v1/networks/100', { allowedHosts: [] })).status, 200);
  }
  await waitFor('entry back at h once h may join again', at('lower-h', 1));
});

test('lease expiry: an agent that dies stays in the other agents\u2019 flood lists, stale, until their probes see it down', async () => {
  const live = agent('stays', '192.0.2.10');
  const doomed = agent('doomed', '192.0.2.11', { leaseTtlSeconds: 2 });
  await Promise.all([live.sync.ready(), doomed.sync.published()]);
  await waitFor('doomed in flood list', () =>
    live.surface.flood.get(100)?.includes('192.0.2.11:4789') ? true : undefined,
  );
  await doomed.sync.stop({ revoke: false }); // keepalives stop, as on SIGKILL
  await waitFor(
    'the controller keeps doomed stale',
    async () => {
      const res = await api('GET', '/v1/hosts/doomed');
      return (res.body as { host?: { state: string } }).host?.state === 'stale' ? true : undefined;
    },
    8000,
  );
  assert.ok(live.surface.flood.get(100)?.includes('192.0.2.11:4789'), 'still in the flood list: not ejected');
  // The live agent's tunnel probes see it down: it goes.
  live.sync.publishTunnelStatus({
    host: 'stays',
    peers: [
      {
        vtep: { address: '192.0.2.11', port: 4789 },
        host: 'doomed',
        encap: 'vxlan',
        state: 'down',
        rtt: null,
        lossPct: 100,
        lastChange: Date.now(),
        reason: 'probe timeout',
        rxPackets: 0,
        txPackets: 0,
        rxBytes: 0,
        txBytes: 0,
      },
    ],
    updatedAt: Date.now(),
  });
  await waitFor(
    'doomed out of the flood list',
    () => (live.surface.flood.get(100)?.includes('192.0.2.11:4789') ? undefined : true),
    8000,
  );
});

test('etcd stopped: tables kept, outage logged once; etcd back: sync resumes and the lease is re-registered', async () => {
  const e = agent('outage-e', '192.0.2.20', { leaseTtlSeconds: 2 });
  const f = agent('outage-f', '192.0.2.21', { leaseTtlSeconds: 2 });
  await Promise.all([e.sync.ready(), f.sync.ready()]);
  f.events.emit('mac:local', { vni: 100, mac: 0x0200000d0001, port: 'tap0', seq: 0 });
  await waitFor('e knows f MAC', () => e.surface.where(100, '0200000d0001'));
  const before = structuredClone([...e.surface.fdb]);
  const loadsBefore = e.sync.status().tableLoads;
  let downEvents = 0;
  e.sync.on('etcd:down', () => downEvents++);

  await etcd.halt();
  await waitFor('e notices', () => (e.sync.etcdUp ? undefined : true), 8000);
  await new Promise((r) => setTimeout(r, 3000)); // longer than the lease TTL: keepalives fail, grants retry
  assert.deepEqual([...e.surface.fdb], before, 'cached tables untouched during the outage');
  assert.equal(downEvents, 1);
  assert.equal(e.log.count('warn', /etcd unreachable/), 1, 'outage logged once, not per retry');

  await etcd.restart();
  await waitFor('e back', () => (e.sync.etcdUp ? true : undefined), 15_000);
  f.events.emit('mac:local', { vni: 100, mac: 0x0200000d0002, port: 'tap0', seq: 0 });
  await waitFor('new MAC after the outage reaches e', () => e.surface.where(100, '0200000d0002'), 15_000);
  assert.ok(e.surface.where(100, '0200000d0001'), 'nothing lost');
  await waitFor('f registered again', async () =>
    (await client.get(keys.host('outage-f')).buffer()) !== null ? true : undefined,
  );
  assert.equal(e.log.count('info', /etcd reachable again/), 1);
  assert.equal(
    e.sync.status().tableLoads,
    loadsBefore,
    'resumed the watches from their last revision: no full read again',
  );
});

test('agent restart: tables restored from etcd, its MACs reported again with their seq (no move counted)', async () => {
  const p = agent('restart-p', '192.0.2.40');
  const q = agent('restart-q', '192.0.2.41');
  await Promise.all([p.sync.ready(), q.sync.ready()]);
  const mac = 0x0200000f0001;
  q.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  await waitFor('p knows q MAC', () => p.surface.where(100, '0200000f0001'));
  p.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 }); // the VM moved to p: seq 1
  await waitFor('entry at p', async () => {
    const res = await api('GET', '/v1/fdb?mac=02:00:00:0f:00:01');
    const e = (res.body as { entries: { host: string; seq: number; moves: number }[] }).entries[0];
    return e?.host === 'restart-p' && e.seq === 1 ? e : undefined;
  });
  q.events.emit('mac:local', { vni: 100, mac: 0x0200000f0002, port: 'tap0', seq: 0 });
  await waitFor('p knows q second MAC', () => p.surface.where(100, '0200000f0002'));

  await p.sync.stop({ revoke: false }); // dies; restarts before its lease expires
  const again = agent('restart-p', '192.0.2.40');
  await again.sync.ready();
  assert.ok(again.surface.networks.has(100), 'network restored');
  assert.ok(again.surface.flood.get(100)?.includes('192.0.2.41:4789'), 'flood list restored');
  assert.deepEqual(again.surface.where(100, '0200000f0002'), { vtep: '192.0.2.41:4789', seq: 0, static: false });
  assert.equal(again.surface.where(100, '0200000f0001'), undefined, 'its own MAC stays local');
  // The data path re-learns the VM (its own seq 0): the report keeps the table's seq, so nothing moves.
  again.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  await again.sync.published();
  const res = await api('GET', '/v1/fdb?mac=02:00:00:0f:00:01');
  const entry = (res.body as { entries: { host: string; seq: number; moves: number }[] }).entries[0];
  assert.deepEqual([entry?.host, entry?.seq], ['restart-p', 1]);
  const moves = entry!.moves;
  await new Promise((r) => setTimeout(r, 300));
  const later = await api('GET', '/v1/fdb?mac=02:00:00:0f:00:01');
  assert.equal((later.body as { entries: { moves: number }[] }).entries[0]?.moves, moves, 'no move counted');
});

test('compaction while cut off: the agent resyncs fully and applies only the difference', async () => {
  const proxy = await TcpProxy.start(Number(new URL(etcd.endpoint).port));
  const g = agent('compact-g', '192.0.2.30', {
    etcd: { endpoints: [proxy.endpoint], callTimeoutMs: 1000 },
    leaseTtlSeconds: 10,
  });
  const h = agent('compact-h', '192.0.2.31');
  try {
    await Promise.all([g.sync.ready(), h.sync.ready()]);
    h.events.emit('mac:local', { vni: 100, mac: 0x0200000e0001, port: 'tap0', seq: 0 });
    await waitFor('g knows h MAC', () => g.surface.where(100, '0200000e0001'));
    let resyncs = 0;
    g.sync.on('sync:resync', () => resyncs++);

    proxy.cut();
    h.events.emit('mac:gone', { vni: 100, mac: 0x0200000e0001, port: 'tap0' });
    h.events.emit('mac:local', { vni: 100, mac: 0x0200000e0002, port: 'tap0', seq: 0 });
    assert.equal((await api('POST', '/v1/networks', { vni: 700, name: 'while-cut' })).status, 201);
    await waitFor('controller moved on', async () =>
      (await client.get(keys.fdb(100, '02:00:00:0e:00:02')).buffer()) !== null &&
      (await client.get(keys.fdb(100, '02:00:00:0e:00:01')).buffer()) === null
        ? true
        : undefined,
    );
    const head = await client.get('x').exec();
    await client.kv.compact({ revision: head.header.revision, physical: true });
    assert.ok(g.surface.where(100, '0200000e0001'), 'still cached while cut off');

    proxy.restore();
    await waitFor(
      'g resynced',
      () =>
        g.surface.where(100, '0200000e0002') && !g.surface.where(100, '0200000e0001') && g.surface.networks.has(700)
          ? true
          : undefined,
      15_000,
    );
    assert.ok(resyncs >= 1, 'a resync happened');
  } finally {
    await g.sync.stop();
    await proxy.close();
  }
});

test('IP bindings: ip:bound joins the MAC report, the other agents get the IPs with fdb:set, and they move with the MAC', async () => {
  const a = agent('ip-a', '192.0.2.41');
  const b = agent('ip-b', '192.0.2.42');
  await Promise.all([a.sync.ready(), b.sync.ready()]);
  const mac = 0x0200000f0001;
  a.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  a.events.emit('ip:bound', { vni: 100, mac, ip: '203.0.113.41', port: 'tap0' });
  a.events.emit('ip:bound', { vni: 100, mac, ip: '2001:db8::41', port: 'tap0' });
  const ipsAtB = (): readonly string[] | undefined => {
    for (const batch of [...b.surface.applied].reverse()) {
      for (const c of [...batch].reverse()) if (c.kind === 'fdb:set' && c.mac === mac) return c.ips ?? [];
    }
    return undefined;
  };
  await waitFor('b gets the IPs with the entry', () => (ipsAtB()?.length === 2 ? true : undefined));
  assert.deepEqual(ipsAtB(), ['2001:db8::41', '203.0.113.41']);
  const report = decodeReport((await client.get(keys.report('ip-a', 100, '02:00:00:0f:00:01')).buffer())!);
  assert.ok(!(report instanceof RecordError));
  assert.deepEqual(report.ips, ['2001:db8::41', '203.0.113.41']);

  // The VM migrates to b (a RARP: no IP in it): b's report carries the IPs the table had.
  b.events.emit('mac:local', { vni: 100, mac, port: 'tap0', seq: 0 });
  const moved = await waitFor('the entry moved to b with its IPs', async () => {
    const r = await api('GET', '/v1/fdb?mac=02:00:00:0f:00:01');
    const e = (r.body as { entries: { host: string; ips: string[] }[] }).entries[0];
    return e?.host === 'ip-b' ? e : undefined;
  });
  assert.deepEqual(moved.ips, ['2001:db8::41', '203.0.113.41']);
});
