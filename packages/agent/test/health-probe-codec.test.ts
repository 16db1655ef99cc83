import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  PROBE_ETHERTYPE,
  PROBE_FRAME_LENGTH,
  decodeProbeFrame,
  encodeProbeFrame,
  isProbeFrame,
  probeFrame,
  type Probe,
} from '../src/health/probe-codec.js';

const request: Probe = { kind: 'request', session: 0xdeadbeef, seq: 7, echoSession: 0, timestamp: 1234.5678 };

test('a probe frame is a 60-byte Ethernet frame to the reserved dvs MAC with ethertype 0x88b5', () => {
  const frame = probeFrame(request);
  assert.equal(frame.length, PROBE_FRAME_LENGTH);
  assert.deepEqual([...frame.subarray(0, 6)], [0x02, 0x64, 0x76, 0x73, 0x00, 0x01]);
  assert.deepEqual([...frame.subarray(6, 12)], [0x02, 0x64, 0x76, 0x73, 0x00, 0x01]);
  assert.equal((frame[12] << 8) | frame[13], PROBE_ETHERTYPE);
  assert.equal(Buffer.from(frame.subarray(14, 18)).toString('latin1'), 'DVSP');
  assert.ok(
    frame.subarray(44).every((b) => b === 0),
    'padding is zero',
  );
});

test('encode then decode gives the probe back, at any offset', () => {
  fc.assert(
    fc.property(
      fc.constantFrom<'request' | 'reply'>('request', 'reply'),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 0, max: 32 }),
      (kind, session, seq, echoSession, timestamp, off) => {
        const buf = new Uint8Array(off + PROBE_FRAME_LENGTH + 3).fill(0xaa);
        const len = encodeProbeFrame(buf, off, { kind, session, seq, echoSession, timestamp });
        assert.equal(len, PROBE_FRAME_LENGTH);
        assert.equal(buf[off + len], 0xaa, 'writes nothing past the frame');
        const decoded = decodeProbeFrame(buf, off, len);
        assert.deepEqual(decoded, {
          kind,
          session,
          seq,
          echoSession,
          timestamp: Object.is(timestamp, -0) ? -0 : timestamp,
        });
      },
    ),
  );
});

test('decode rejects short, foreign and malformed frames without throwing', () => {
  const good = probeFrame(request);
  assert.equal(decodeProbeFrame(good, 0, 43), null, 'truncated');
  assert.equal(decodeProbeFrame(good, 20, 60), null, 'length past the buffer');
  const mutate = (at: number, value: number) => {
    const f = good.slice();
    f[at] = value;
    return decodeProbeFrame(f, 0, f.length);
  };
  assert.equal(mutate(0, 0xff), null, 'other destination MAC');
  assert.equal(mutate(13, 0x00), null, 'other ethertype');
  assert.equal(mutate(14, 0x00), null, 'bad magic');
  assert.equal(mutate(18, 2), null, 'unknown version');
  assert.equal(mutate(19, 3), null, 'unknown kind');
  const zeroSession = probeFrame({ ...request, session: 0 });
  assert.equal(decodeProbeFrame(zeroSession, 0, 60), null, 'session 0 is not a session');
  const nan = probeFrame({ ...request, timestamp: NaN });
  assert.equal(decodeProbeFrame(nan, 0, 60), null, 'timestamp must be finite');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      decodeProbeFrame(bytes, 0, bytes.length);
    }),
  );
});

test('isProbeFrame is the cheap divert test: dst MAC and ethertype only', () => {
  const frame = probeFrame(request);
  assert.equal(isProbeFrame(frame, 0, frame.length), true);
  const data = frame.slice();
  data[0] = 0x02;
  data[5] = 0x02;
  assert.equal(isProbeFrame(data, 0, data.length), false);
});
