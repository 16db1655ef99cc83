import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BROADCAST_MAC,
  MAX_MAC,
  canonicalMac,
  isCanonicalMac,
  formatMac,
  isBroadcastMac,
  isLocallyAdministeredMac,
  isMulticastMac,
  isUnicastMac,
  isValidMac,
  parseMac,
  readMac,
  writeMac,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

describe('MAC as a 48-bit number', () => {
  it('reads the six bytes big-endian at an offset', () => {
    const buf = hex('ee 02 00 00 00 00 01 ff');
    assert.equal(readMac(buf, 1), 0x020000000001);
    assert.equal(readMac(hex('ff ff ff ff ff ff'), 0), BROADCAST_MAC);
    assert.equal(readMac(hex('52 54 00 12 34 56'), 0), 0x525400123456);
  });

  it('writes the six bytes and leaves neighbours alone', () => {
    const buf = Buffer.alloc(8, 0xee);
    writeMac(buf, 1, 0xfedcba987654);
    assert.deepEqual(buf, hex('ee fe dc ba 98 76 54 ee'));
  });

  it('formats lower-case colon-separated and parses both separators and cases', () => {
    assert.equal(formatMac(0x020000000001), '02:00:00:00:00:01');
    assert.equal(formatMac(0), '00:00:00:00:00:00');
    assert.equal(formatMac(BROADCAST_MAC), 'ff:ff:ff:ff:ff:ff');
    assert.equal(parseMac('02:00:00:00:00:01'), 0x020000000001);
    assert.equal(parseMac('52-54-00-AB-cd-EF'), 0x525400abcdef);
    assert.equal(parseMac('FF:FF:FF:FF:FF:FF'), BROADCAST_MAC);
  });

  it('parseMac rejects everything that is not six two-digit groups with one separator', () => {
    for (const bad of [
      '',
      '02:00:00:00:00',
      '02:00:00:00:00:01:02',
      '02:00:00:00:00:0g',
      '02-00:00:00:00:01',
      '2:0:0:0:0:1',
      ' 02:00:00:00:00:01',
      '02:00:00:00:00:01\n',
      '0200.0000.0001',
      '020000000001',
    ]) {
      assert.equal(parseMac(bad), null, bad);
    }
    assert.equal(parseMac(42 as unknown as string), null);
  });

  it('canonicalMac gives the one spelling records and keys carry; a mixed-separator MAC is not one', () => {
    assert.equal(canonicalMac('02-00-5E-00-01-0A'), '02:00:5e:00:01:0a');
    assert.equal(canonicalMac('FF:FF:FF:FF:FF:FF'), 'ff:ff:ff:ff:ff:ff');
    assert.equal(canonicalMac('02-00:5e:00:01:0a'), null);
    assert.equal(canonicalMac('02:00:5e:00:01'), null);
    assert.ok(isCanonicalMac('02:00:5e:00:01:0a'));
    for (const other of ['02:00:5E:00:01:0A', '02-00-5e-00-01-0a', 42, null])
      assert.ok(!isCanonicalMac(other), String(other));
  });

  it('classifies by the I/G and U/L bits of the first octet', () => {
    const cases: [string, boolean, boolean, boolean][] = [
      // text, multicast, broadcast, locally administered
      ['ff:ff:ff:ff:ff:ff', true, true, true],
      ['01:00:5e:00:00:fb', true, false, false],
      ['33:33:00:00:00:01', true, false, true],
      ['02:00:00:00:00:01', false, false, true],
      ['52:54:00:12:34:56', false, false, true],
      ['00:1b:21:0a:0b:0c', false, false, false],
    ];
    for (const [text, multicast, broadcast, local] of cases) {
      const mac = parseMac(text)!;
      assert.equal(isMulticastMac(mac), multicast, text);
      assert.equal(isUnicastMac(mac), !multicast, text);
      assert.equal(isBroadcastMac(mac), broadcast, text);
      assert.equal(isLocallyAdministeredMac(mac), local, text);
    }
  });

  it('isValidMac accepts exactly the integers 0..2^48-1', () => {
    assert.equal(isValidMac(0), true);
    assert.equal(isValidMac(MAX_MAC), true);
    for (const bad of [-1, MAX_MAC + 1, 1.5, NaN, '02:00:00:00:00:01', null]) assert.equal(isValidMac(bad), false);
  });

  it('round-trips every 48-bit value through bytes and text (property)', () => {
    const buf = Buffer.alloc(6);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MAC }), (mac) => {
        writeMac(buf, 0, mac);
        assert.equal(readMac(buf, 0), mac);
        assert.equal(buf.readUIntBE(0, 6), mac);
        assert.equal(parseMac(formatMac(mac)), mac);
        assert.equal(isMulticastMac(mac), (buf[0] & 1) === 1);
        assert.equal(isLocallyAdministeredMac(mac), (buf[0] & 2) === 2);
      }),
      { numRuns: 5000 },
    );
  });
});
