// Table digests (dvs audit): the data path's digests follow every table change
// incrementally and equal the digest of the same members computed at once (as
// the controller does from its records); an injected wrong control entry
// changes the FDB digest, and the table cache's repair changes put it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  digestOf,
  encodeFdbEntry,
  encodeFloodList,
  encodeNetwork,
  fdbDigestMember,
  formatMac,
  KeyLayout,
} from '@dvs/wire';
import { sampleFdbEntry, sampleNetwork } from '@dvs/wire/testing';
import { DataPath } from '../src/datapath/data-path.js';
import { TableState } from '../src/etcd-sync/table-state.js';

const keys = new KeyLayout();
const self = { host: 'me', vtep: { address: '192.0.2.1', port: 4789 } };
const VNI = 100;

function dataPath(): DataPath {
  return new DataPath({ batchSize: 1, copyBatchSize: 1, slotSize: 256, agingTimer: false });
}

test('the data path FDB digest follows any sequence of sets and deletes, and equals the digest computed at once', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.option(fc.integer({ min: 2, max: 6 }))), {
        maxLength: 120,
      }),
      (ops) => {
        const dp = dataPath();
        dp.apply([{ kind: 'network:set', network: { vni: VNI, encap: 'vxlan', mtu: 1450, arpSuppression: false } }]);
        const model = new Map<number, string>();
        for (const [m, at] of ops) {
          const mac = 0x020000000000 + m;
          if (at === null) {
            dp.apply([{ kind: 'fdb:del', vni: VNI, mac }]);
            model.delete(mac);
          } else {
            dp.apply([{ kind: 'fdb:set', vni: VNI, mac, vtep: { address: `192.0.2.${at}`, port: 4789 }, seq: 0 }]);
            model.set(mac, `192.0.2.${at}`);
          }
        }
        const digest = dp.tableDigest(VNI)!;
        const members = [...model].map(([mac, address]) => fdbDigestMember(formatMac(mac), { address, port: 4789 }));
        assert.deepEqual(digest.fdb, digestOf(members));
        assert.deepEqual(digest.sources, digestOf(new Set([...model.values()].map((a) => `${a}:4789`))));
      },
    ),
  );
});

test('a wrong entry injected into the data path changes its digest; the repair changes put it back', () => {
  const t = new TableState(keys, self);
  const dp = dataPath();
  let rev = 0;
  const kv = (key: string, value: Buffer) => ({ key, value, modRevision: ++rev });
  const now = 0;
  dp.apply(
    t.reset(
      [
        kv(keys.network(VNI), encodeNetwork(sampleNetwork(VNI, { name: 'n', createdAt: now, updatedAt: now }))),
        kv(
          keys.flood(VNI),
          encodeFloodList({
            vni: VNI,
            members: [
              { address: '192.0.2.2', port: 4789, host: 'b' },
              { address: '192.0.2.1', port: 4789, host: 'me' },
            ],
            updatedAt: now,
          }),
        ),
        ...[2, 3].map((i) =>
          kv(
            keys.fdb(VNI, formatMac(0x020000000000 + i)),
            encodeFdbEntry(
              sampleFdbEntry({
                vni: VNI,
                mac: formatMac(0x020000000000 + i),
                host: 'b',
                vtep: { address: '192.0.2.2', port: 4789 },
                updatedAt: now,
              }),
            ),
          ),
        ),
      ],
      rev,
    ),
  );
  const good = dp.tableDigest(VNI)!;
  assert.equal(good.fdb.hash, t.handedFdbDigest(VNI).hash, 'the data path holds what it was handed');
  assert.deepEqual(good.flood, digestOf(['192.0.2.2:4789']));

  dp.apply([{ kind: 'fdb:set', vni: VNI, mac: 0x020000000002, vtep: { address: '192.0.2.99', port: 4789 }, seq: 0 }]);
  dp.apply([{ kind: 'fdb:set', vni: VNI, mac: 0x020000000009, vtep: { address: '192.0.2.2', port: 4789 }, seq: 0 }]);
  assert.notEqual(dp.tableDigest(VNI)!.fdb.hash, good.fdb.hash);

  const repair = t.repairChanges(VNI, dp.controlEntries(VNI)!);
  assert.deepEqual(
    repair.filter((c) => c.kind === 'fdb:set' || c.kind === 'fdb:del').map((c) => `${c.kind} ${c.mac.toString(16)}`),
    ['fdb:del 20000000009', 'fdb:set 20000000002'],
  );
  dp.apply(repair);
  assert.deepEqual(dp.tableDigest(VNI), good);
});
