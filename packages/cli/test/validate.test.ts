import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, EXIT_USAGE } from '../src/cli-errors.js';
import {
  parseAddress,
  parseEncap,
  parseHost,
  parseMac,
  parseMtu,
  parseSeconds,
  parseUdpPort,
  parseVni,
  parseVtep,
} from '../src/validate.js';

const usage = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof UsageError && e.exitCode === EXIT_USAGE && pattern.test(e.message));

test('VNI: 1..16777215, digits only', () => {
  assert.equal(parseVni('1'), 1);
  assert.equal(parseVni('16777215'), 16777215);
  for (const bad of ['0', '16777216', '-1', '1.5', 'abc', '', '0x10', '1e3']) {
    usage(() => parseVni(bad), /VNI must be an integer in 1\.\.16777215/);
  }
});

test('MAC: colon or dash, any case, canonicalised; anything else refused with the expected form', () => {
  assert.equal(parseMac('02:00:00:00:00:0A'), '02:00:00:00:00:0a');
  assert.equal(parseMac('02-00-5E-00-01-0A'), '02:00:5e:00:01:0a');
  for (const bad of [
    '02:00:00:00:00',
    '02-00:00:00:00:01',
    '02:00:00:00:00:0g',
    'zz',
    '0200.0000.0001',
    '02:00:00:00:00:00:00',
  ]) {
    usage(() => parseMac(bad), /is not a MAC address: expected six hex pairs/);
  }
});

test('VTEP: address with optional port, IPv4 and bracketed IPv6', () => {
  assert.deepEqual(parseVtep('203.0.113.9'), { address: '203.0.113.9' });
  assert.deepEqual(parseVtep('203.0.113.9:4789'), { address: '203.0.113.9', port: 4789 });
  assert.deepEqual(parseVtep('[2001:db8::1]:4754'), { address: '2001:db8::1', port: 4754 });
  assert.deepEqual(parseVtep('2001:db8::1'), { address: '2001:db8::1' });
  usage(() => parseVtep('203.0.113.999'), /not an IPv4 or IPv6 address/);
  usage(() => parseVtep('203.0.113.9:0'), /port must be an integer in 1\.\.65535/);
  usage(() => parseVtep('host.example'), /not an IPv4 or IPv6 address/);
});

test('other parsers', () => {
  assert.equal(parseAddress('198.51.100.1'), '198.51.100.1');
  // The one address rule of @dvs/wire: "1:2" is no IPv6 address; IPv6 comes back canonical.
  usage(() => parseAddress('1:2'), /not an IPv4 or IPv6 address/);
  usage(() => parseAddress('2001:db8::1::2'), /not an IPv4 or IPv6 address/);
  assert.equal(parseAddress('2001:DB8:0:0::1'), '2001:db8::1');
  // The one MTU rule (576..9000) and the one list of encaps.
  assert.equal(parseMtu('576'), 576);
  usage(() => parseMtu('68'), /576\.\.9000/);
  usage(() => parseMtu('9001'), /576\.\.9000/);
  assert.equal(parseEncap('gre-udp'), 'gre-udp');
  usage(() => parseEncap('geneve'), /one of vxlan, gre-udp/);
  assert.equal(parseUdpPort('4789'), 4789);
  usage(() => parseUdpPort('70000'), /1\.\.65535/);
  assert.equal(parseHost('host-a'), 'host-a');
  usage(() => parseHost('bad host'), /not a host id/);
  assert.equal(parseSeconds('0.5'), 0.5);
  usage(() => parseSeconds('0'), /seconds in 0\.1\.\.3600/);
});
