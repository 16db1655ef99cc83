import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TUN_OFFLOAD_BITS } from '../src/index.js';
import { errnoName } from '../src/errno-names.js';
import { negotiateTapOffloads, parseTapOffloadOption } from '../src/tap-offloads.js';

// The negotiation's logic against kernels we do not have: a setter that
// refuses what such a kernel would refuse (a mask with an unknown bit is
// EINVAL, and then nothing changes).

const EINVAL = 22;

/** A kernel that knows only `known` bits; records every mask tried. */
function kernel(known: number): { trySet: (mask: number) => number; tried: number[]; state: () => number } {
  let state = 0;
  const tried: number[] = [];
  return {
    tried,
    state: () => state,
    trySet: (mask) => {
      tried.push(mask);
      if ((mask & ~known) !== 0) return EINVAL;
      state = mask;
      return 0;
    },
  };
}

const ALL = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40;

test('a kernel that takes everything is asked once', () => {
  const k = kernel(ALL);
  const result = negotiateTapOffloads(parseTapOffloadOption(true), k.trySet, errnoName);
  assert.deepEqual(k.tried, [ALL]);
  assert.equal(k.state(), ALL);
  assert.deepEqual(result.refused, []);
  assert.equal(result.vnetHeaderLength, 10);
});

test('a kernel without USO (before 6.2): USO refused and reported, the rest taken and left set', () => {
  const k = kernel(0x0f);
  const result = negotiateTapOffloads(parseTapOffloadOption(true), k.trySet, errnoName);
  assert.deepEqual([...result.enabled], ['csum', 'tso4', 'tso6', 'tsoEcn']);
  assert.deepEqual(
    result.refused.map((r) => [r.offload, r.errno]),
    [
      ['uso4', 'EINVAL'],
      ['uso6', 'EINVAL'],
    ],
  );
  assert.match(result.refused[0].reason, /does not offer uso4/);
  assert.equal(k.state(), 0x0f, 'the device keeps what was taken');
  assert.deepEqual(k.tried, [ALL, 0x01, 0x03, 0x07, 0x0f, 0x6f]);
});

test('a kernel that refuses everything but the header: every offload reported, none set', () => {
  const k = kernel(0);
  const result = negotiateTapOffloads(parseTapOffloadOption({ headerLength: 12 }), k.trySet, errnoName);
  assert.equal(result.vnetHeaderLength, 12);
  assert.deepEqual(result.enabled, []);
  assert.equal(result.refused.length, 6);
  assert.match(result.refused[0].reason, /does not offer csum/);
  assert.match(result.refused[1].reason, /needs csum/);
  assert.equal(k.state(), 0);
});

test('no offloads: no header, no ioctl', () => {
  const k = kernel(ALL);
  assert.equal(negotiateTapOffloads(parseTapOffloadOption(false), k.trySet, errnoName).vnetHeaderLength, 0);
  assert.equal(negotiateTapOffloads(parseTapOffloadOption(undefined), k.trySet, errnoName).vnetHeaderLength, 0);
  assert.deepEqual(k.tried, []);
});

test('a header without offloads asks for the empty mask only', () => {
  const k = kernel(ALL);
  const none = { csum: false, tso4: false, tso6: false, tsoEcn: false, uso4: false, uso6: false };
  const result = negotiateTapOffloads(parseTapOffloadOption(none), k.trySet, errnoName);
  assert.equal(result.vnetHeaderLength, 10);
  assert.deepEqual(k.tried, []);
});

test('the bits are the kernel’s TUN_F_* values', () => {
  assert.deepEqual({ ...TUN_OFFLOAD_BITS }, { csum: 1, tso4: 2, tso6: 4, tsoEcn: 8, uso4: 0x20, uso6: 0x40 });
});

test('bad options are RangeErrors naming the field', () => {
  assert.throws(() => parseTapOffloadOption({ headerLength: 11 as 10 }), /offloads\.headerLength must be 10 or 12/);
  assert.throws(() => parseTapOffloadOption({ tso4: 'yes' as unknown as boolean }), /offloads\.tso4 must be a boolean/);
  assert.throws(() => parseTapOffloadOption({ ufo: true } as never), /offloads\.ufo is not an offload/);
  assert.throws(() => parseTapOffloadOption(1 as never), RangeError);
});
