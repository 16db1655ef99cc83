import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToIpv6, ipv6ToBytes, parseIpAddress } from '../src/index.js';

test('IPv6 text round-trips through 16 bytes (canonical RFC 5952 text)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = bytesToIpv6(bytes);
      assert.deepEqual(ipv6ToBytes(text), bytes);
      assert.equal(bytesToIpv6(ipv6ToBytes(text) as Uint8Array), text);
    }),
  );
});

test('IPv6 parsing handles ::, a dotted IPv4 tail, and rejects junk', () => {
  assert.equal(bytesToIpv6(ipv6ToBytes('::') as Uint8Array), '::');
  assert.equal(bytesToIpv6(ipv6ToBytes('2001:DB8:0:0:0:0:0:1') as Uint8Array), '2001:db8::1');
  assert.deepEqual([...(ipv6ToBytes('::ffff:192.0.2.1') as Uint8Array).subarray(10)], [255, 255, 192, 0, 2, 1]);
  assert.equal(ipv6ToBytes('2001:db8::1::2'), null);
  assert.equal(ipv6ToBytes('192.0.2.1'), null);
  assert.equal(parseIpAddress('fe80::1%eth0'), null);
  assert.deepEqual(parseIpAddress('198.51.100.7'), { family: 4, ipv4: 0xc6336407 });
});
