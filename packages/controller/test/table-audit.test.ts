// dvs audit's comparison (view/table-audit.ts) as a pure computation on a
// ClusterView: a host's intended digests (from a per-VNI index, its own
// entries taken away) equal the digests computed member by member; an agent
// that holds exactly that is clean, one with a wrong entry is named by MAC,
// one whose own table copy is off is named by digest, and a disagreement
// counts only once it lasted the settle time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  digestOf,
  encodeFdbEntry,
  encodeFloodList,
  encodeHost,
  encodeNetwork,
  encodeTableDigest,
  fdbDigestMember,
  KeyLayout,
  type VniDigest,
} from '@dvs/wire';
import { sampleFdbEntry, sampleNetwork } from '@dvs/wire/testing';
import { ClusterView } from '../src/view/cluster-view.js';
import { compareDigests, intendedDigest, TableAuditor } from '../src/view/table-audit.js';

const keys = new KeyLayout();
const VNI = 100;
const HOSTS = ['a', 'b', 'c', 'd'];
const address = (h: string) => `192.0.2.${HOSTS.indexOf(h) + 1}`;

function viewWith(entries: [number, string][], floodHosts: string[], now = { t: 0 }): ClusterView {
  const view = new ClusterView(keys, () => now.t);
  let rev = 0;
  const put = (key: string, value: Buffer) =>
    view.put({ key, value, modRevision: ++rev, createRevision: rev, lease: '0' });
  put(keys.network(VNI), encodeNetwork(sampleNetwork(VNI, { name: 'n' })));
  for (const h of HOSTS) {
    put(
      keys.host(h),
      encodeHost({
        host: h,
        vtep: { address: address(h), port: 4789 },
        encaps: ['vxlan'],
        agentVersion: 't',
        startedAt: 0,
      }),
    );
  }
  for (const [m, h] of entries) {
    const mac = `02:00:00:00:00:${m.toString(16).padStart(2, '0')}`;
    put(
      keys.fdb(VNI, mac),
      encodeFdbEntry(sampleFdbEntry({ vni: VNI, mac, host: h, vtep: { address: address(h), port: 4789 } })),
    );
  }
  put(
    keys.flood(VNI),
    encodeFloodList({
      vni: VNI,
      members: floodHosts.map((h) => ({ address: address(h), port: 4789, host: h })),
      updatedAt: 0,
    }),
  );
  view.flush();
  return view;
}

function naive(entries: [number, string][], floodHosts: string[], host: string): VniDigest {
  const others = entries.filter(([, h]) => h !== host);
  const fdb = others.map(([m, h]) =>
    fdbDigestMember(`02:00:00:00:00:${m.toString(16).padStart(2, '0')}`, { address: address(h), port: 4789 }),
  );
  const flood = floodHosts.filter((h) => h !== host).map((h) => `${address(h)}:4789`);
  const sources = new Set([...others.map(([, h]) => `${address(h)}:4789`), ...flood]);
  return { vni: VNI, fdb: digestOf(fdb), flood: digestOf(new Set(flood)), sources: digestOf(sources) };
}

test("a host's intended digests equal the digests of what it should hold, member by member", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.constantFrom(...HOSTS)), {
        selector: ([m]) => m,
        maxLength: 60,
      }),
      fc.subarray(HOSTS),
      (entries, flood) => {
        const view = viewWith(entries, flood);
        for (const h of HOSTS) assert.deepEqual(intendedDigest(view, h, VNI), naive(entries, flood, h));
      },
    ),
  );
});

test('an agent that holds the tables is clean; a wrong entry is named by MAC, a wrong copy by digest; only after the settle time', () => {
  const entries: [number, string][] = [
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
  ];
  const now = { t: 0 };
  const view = viewWith(entries, ['a', 'b', 'c'], now);
  let rev = 1000;
  const publish = (
    host: string,
    digest: VniDigest,
    diff: { mac: string; has: string | null; table: string | null }[] = [],
  ) =>
    view.put({
      key: keys.digest(host),
      value: encodeTableDigest({
        host,
        vnis: [digest],
        diff: diff.map((d) => ({
          vni: VNI,
          mac: d.mac,
          has: d.has === null ? null : { address: d.has, port: 4789 },
          table: d.table === null ? null : { address: d.table, port: 4789 },
        })),
        updatedAt: 0,
      }),
      modRevision: ++rev,
      createRevision: rev,
      lease: '0',
    });
  publish('a', naive(entries, ['a', 'b', 'c'], 'a'));
  assert.deepEqual(compareDigests(view), []);

  // b's data path sends 02:..:03 to a VTEP nobody has.
  const wrong = naive([...entries.filter(([m]) => m !== 3)], ['a', 'b', 'c'], 'b');
  publish('b', { ...wrong, fdb: digestOf(['x']) }, [
    { mac: '02:00:00:00:00:03', has: '192.0.2.99', table: address('c') },
  ]);
  // c's own copy of the tables lacks an entry (no MAC named).
  publish('c', { ...naive(entries, ['a', 'b', 'c'], 'c'), fdb: digestOf([]) });
  const found = compareDigests(view).filter((d) => d.table === 'fdb');
  assert.deepEqual(
    found.map((d) => [d.host, d.mac, d.agentHas, d.intends]),
    [
      ['b', '02:00:00:00:00:03', '192.0.2.99:4789', '192.0.2.3:4789'],
      [
        'c',
        null,
        '0 entries (digest 0000000000000000)',
        `2 entries (digest ${naive(entries, ['a', 'b', 'c'], 'c').fdb.hash})`,
      ],
    ],
  );
  const auditor = new TableAuditor(view, 3000, () => now.t);
  assert.deepEqual(auditor.check(), [], 'not yet: a change takes a moment to reach every agent');
  now.t = 3000;
  assert.deepEqual(new Set(auditor.check().map((d) => d.host)), new Set(['b', 'c']));
});
