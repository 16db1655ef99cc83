// A resync of more than 4 MiB of records after a forced compaction, against a
// real etcd: an agent follows a VNI whose FDB is larger than gRPC's default
// 4 MiB message (a plain client cannot read it in one request), is cut off,
// the FDB changes, etcd is compacted past the agent's revision, and the agent
// comes back. It reads the whole VNI again in pages at one revision and hands
// the data path exactly the difference, a slice at a time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdServer, TcpProxy, writeKeys } from '@dvs/etcd/testing';
import { encodeFdbEntry, encodeFloodList, encodeNetwork, formatMac, KeyLayout, type FdbEntryRecord } from '@dvs/wire';
import { sampleNetwork } from '@dvs/wire/testing';
import { Etcd3 } from 'etcd3';
import { waitFor } from '@dvs/test-support';
import { EtcdSync } from '../src/etcd-sync/index.js';
import { CapturingLogger, FakeSurface } from './etcd-sync-fakes.js';

const VNI = 100;
const MACS = 30_000;
const CHANGED = 1500;
const keys = new KeyLayout();
let etcd: EtcdServer;
let client: Etcd3;

before(async () => {
  etcd = await EtcdServer.start();
  client = new Etcd3({ hosts: etcd.endpoint, grpcOptions: { 'grpc.max_receive_message_length': 64 << 20 } });
});

after(async () => {
  client?.close();
  await etcd?.stop();
});

const macOf = (i: number): number => 0x020000000000 + i;
/** Remote hosts the entries point at (never this host). */
const vtepOf = (i: number): string => `10.${(i >> 8) & 0xff}.${i & 0xff}.1`;

function entry(i: number, seq: number, at: number): FdbEntryRecord {
  return {
    vni: VNI,
    mac: formatMac(macOf(i)),
    host: `rack${at % 40}-host${at}`,
    vtep: { address: vtepOf(at), port: 4789 },
    seq,
    ips: [`172.16.${(i >> 8) & 0xff}.${i & 0xff}`, `fd00::${i.toString(16)}`],
    origin: 'report',
    moves: seq,
    duplicate: false,
    reason: seq > 0 ? `moved ${seq} time(s) in the dampening window` : '',
    updatedAt: 1_700_000_000_000 + i,
  };
}

/** What the agent's data path should hold: MAC hex → VTEP and seq. */
function expected(records: Map<number, FdbEntryRecord>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, r] of records)
    out.set(`${VNI}/${macOf(i).toString(16).padStart(12, '0')}`, `${r.vtep.address}:4789/${r.seq}`);
  return out;
}

function held(surface: FakeSurface): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of surface.fdb) if (k.startsWith(`${VNI}/`)) out.set(k, `${v.vtep}/${v.seq}`);
  return out;
}

function sameMaps(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

test('a resync of more than 4 MiB of records after a forced compaction: paged, at one revision, only the difference applied', async () => {
  const now = Date.now();
  const records = new Map<number, FdbEntryRecord>();
  for (let i = 0; i < MACS; i++) records.set(i, entry(i, 0, i % 500));
  await writeKeys(client, [
    [keys.network(VNI), encodeNetwork(sampleNetwork(VNI, { name: 'big', createdAt: now, updatedAt: now }))],
    [
      keys.flood(VNI),
      encodeFloodList({
        vni: VNI,
        members: [0, 1, 2].map((at) => ({ address: vtepOf(at), port: 4789, host: `rack${at}-host${at}` })),
        updatedAt: now,
      }),
    ],
    ...[...records].map(([i, r]): [string, Buffer] => [keys.fdb(VNI, formatMac(macOf(i))), encodeFdbEntry(r)]),
  ]);

  // The VNI's FDB is past gRPC's default 4 MiB receive limit: one unpaginated read fails.
  let bytes = 0;
  for (const r of records.values()) bytes += keys.fdb(VNI, r.mac).length + encodeFdbEntry(r).length;
  assert.ok(bytes > 4 * 1024 * 1024, `the FDB is ${bytes} bytes`);
  const plain = new Etcd3({ hosts: etcd.endpoint });
  try {
    await assert.rejects(plain.getAll().prefix(keys.fdbOf(VNI)).buffers(), /RESOURCE_EXHAUSTED|larger than max/);
  } finally {
    plain.close();
  }

  const proxy = await TcpProxy.start(Number(new URL(etcd.endpoint).port));
  const surface = new FakeSurface();
  const log = new CapturingLogger();
  const sync = new EtcdSync({
    host: 'big-agent',
    vtep: { address: '192.0.2.99', port: 4789 },
    encaps: ['vxlan'],
    agentVersion: 'test',
    etcd: { endpoints: [proxy.endpoint], callTimeoutMs: 2000 },
    leaseTtlSeconds: 30,
    surface,
    log,
  });
  try {
    sync.start();
    sync.publishPorts([
      { port: 'tap0', mode: 'access', bindings: [{ vni: VNI, vlan: null }], state: 'up', macCount: 0 },
    ]);
    await sync.ready();
    await sync.applied();
    assert.ok(sameMaps(held(surface), expected(records)), 'the first load holds every entry');
    const loadsBefore = sync.status().tableLoads;
    const slicesBefore = sync.status().apply.slices;
    const appliedBefore = surface.applied.length;

    // Cut off; meanwhile entries go, move (seq + 1, another VTEP) and arrive.
    proxy.cut();
    const changes: [string, Buffer | null][] = [];
    for (let i = 0; i < CHANGED; i++) {
      records.delete(i);
      changes.push([keys.fdb(VNI, formatMac(macOf(i))), null]);
    }
    for (let i = CHANGED; i < 2 * CHANGED; i++) {
      const moved = entry(i, 1, 600 + (i % 50));
      records.set(i, moved);
      changes.push([keys.fdb(VNI, moved.mac), encodeFdbEntry(moved)]);
    }
    for (let i = MACS; i < MACS + CHANGED; i++) {
      const added = entry(i, 0, i % 500);
      records.set(i, added);
      changes.push([keys.fdb(VNI, added.mac), encodeFdbEntry(added)]);
    }
    await writeKeys(client, changes);
    const head = await client.get('x').exec();
    await client.kv.compact({ revision: head.header.revision, physical: true });

    proxy.restore();
    await waitFor('the agent resynced the VNI', () => sameMaps(held(surface), expected(records)), 120_000, 200);
    await sync.applied();
    assert.ok(sameMaps(held(surface), expected(records)));
    const status = sync.status();
    assert.ok(status.tableLoads > loadsBefore, `a full read again (${loadsBefore} → ${status.tableLoads})`);
    assert.ok(
      log.lines.some((l) => l.msg === 'resyncing tables'),
      'the resync is logged',
    );
    // Only the difference reached the data path: one fdb:del per gone MAC, one fdb:set per moved or new one.
    const after = surface.applied.slice(appliedBefore).flat();
    const fdbChanges = after.filter((c) => c.kind === 'fdb:set' || c.kind === 'fdb:del');
    assert.equal(fdbChanges.filter((c) => c.kind === 'fdb:del').length, CHANGED);
    assert.equal(fdbChanges.filter((c) => c.kind === 'fdb:set').length, 2 * CHANGED);
    assert.ok(status.apply.slices > slicesBefore + 1, 'the resync was applied in more than one slice');
    assert.equal(status.fdbEntries, records.size);
  } finally {
    await sync.stop({ revoke: false });
    await proxy.close();
  }
});
