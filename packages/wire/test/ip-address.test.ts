import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import {
  canonicalIpAddress,
  formatIpv6Address,
  ipFamily,
  isIpAddress,
  parseIpAddress,
  parseIpv6Address,
} from '../src/index.js';

test('IPv6 text round-trips through 16 bytes (canonical RFC 5952 text)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = formatIpv6Address(bytes, 0);
      assert.deepEqual(new Uint8Array(parseIpv6Address(text) as Uint8Array), bytes);
      assert.equal(canonicalIpAddress(text), text);
      // Every spelling of the same address: upper case, groups with leading zeros, no compression.
      const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
      const expanded = words.map((w) => w.toString(16).padStart(4, '0').toUpperCase()).join(':');
      assert.equal(canonicalIpAddress(expanded), text);
    }),
  );
});

test('IPv6 parsing handles ::, a dotted IPv4 tail, and rejects junk, "1:2" and zone ids', () => {
  assert.equal(canonicalIpAddress('::'), '::');
  assert.equal(canonicalIpAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.deepEqual([...(parseIpv6Address('::ffff:192.0.2.1') as Uint8Array).subarray(10)], [255, 255, 192, 0, 2, 1]);
  for (const bad of [
    '2001:db8::1::2',
    '1:2',
    '1:2:3:4:5:6:7',
    ':::',
    '2001:db8::g',
    'fe80::1%eth0',
    '::ffff:192.0.2.01',
  ]) {
    assert.equal(parseIpAddress(bad), null, bad);
    assert.equal(ipFamily(bad), 0, bad);
  }
  assert.deepEqual(parseIpAddress('198.51.100.7'), { family: 4, ipv4: 0xc6336407 });
  for (const bad of ['192.0.2', '192.0.2.256', '192.0.2.01', ' 192.0.2.1', '']) assert.ok(!isIpAddress(bad), bad);
  assert.equal(ipFamily('192.0.2.1'), 4);
  assert.equal(ipFamily('2001:db8::1'), 6);
});

test('address text agrees with the kernel-style parser of node:net on random text', () => {
  // node:net's isIP (inet_pton rules) is the reference; the one difference by
  // design: zone ids ("fe80::1%eth0") are no address here.
  const chars = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''));
  const text = fc.oneof(
    fc.string({ unit: chars, minLength: 1, maxLength: 20 }),
    fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(7)).map(([b, cut]) => {
      const words = Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16));
      return `${words.slice(0, cut).join(':')}::${words.slice(cut + 1).join(':')}`;
    }),
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((q) => q.join('.')),
  );
  fc.assert(
    fc.property(text, (t) => {
      assert.equal(ipFamily(t), isIP(t), t);
    }),
    { numRuns: 5000 },
  );
});
