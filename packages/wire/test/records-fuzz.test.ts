import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  RecordError,
  decodeFdbEntry,
  decodeFloodList,
  decodeHost,
  decodeNetwork,
  decodePort,
  decodeReport,
  decodeTunnelStatus,
  encodeReport,
} from '../src/records/index.js';

const decoders = [
  decodeHost,
  decodePort,
  decodeReport,
  decodeNetwork,
  decodeFdbEntry,
  decodeFloodList,
  decodeTunnelStatus,
];
const plain = new Packr({ useRecords: false, mapsAsObjects: true });

test('decoders never throw on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      for (const decode of decoders) {
        const out = decode(bytes);
        assert.ok(out instanceof RecordError || typeof out === 'object');
      }
    }),
    { numRuns: 500 },
  );
});

test('decoders never throw on random msgpack maps with a valid version', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })), (map) => {
      const buf = plain.pack({ ...map, v: [1, 0] });
      for (const decode of decoders) decode(buf);
    }),
    { numRuns: 500 },
  );
});

test('a report with one field replaced by random data is either the same valid shape or a named error', () => {
  const base = {
    vni: 100,
    mac: '02:00:00:00:00:01',
    host: 'host-a',
    port: 'tap0',
    seq: 1,
    ips: [],
    seenAt: 1,
  };
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(base)), fc.jsonValue({ maxDepth: 2 }), (field, value) => {
      const raw = { ...(plain.unpack(encodeReport(base)) as Record<string, unknown>), [field]: value };
      const out = decodeReport(plain.pack(raw));
      if (out instanceof RecordError) {
        assert.equal(out.field.split('.')[0], field);
      } else {
        // Accepted: every field is present and typed as the record says.
        assert.equal(typeof out.vni, 'number');
        assert.equal(typeof out.mac, 'string');
        assert.equal(typeof out.host, 'string');
        assert.equal(typeof out.seq, 'number');
        assert.ok(Array.isArray(out.ips));
      }
    }),
    { numRuns: 500 },
  );
});
