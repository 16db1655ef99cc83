import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { copyBytes } from '../src/index.js';
import { boundedView } from './bounded-view.js';

function filled(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

describe('copyBytes', () => {
  it('copies within one ArrayBuffer as memmove does, overlapping either way', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 16 }),
        (from, to, length, viewStart) => {
          const backing = filled(600, 1);
          const expected = Buffer.from(backing);
          expected.copy(expected, viewStart + to, viewStart + from, viewStart + from + length);
          // Two different views of one ArrayBuffer.
          const src = new Uint8Array(backing.buffer, backing.byteOffset + viewStart, 500);
          const dst = new Uint8Array(backing.buffer, backing.byteOffset, 600);
          copyBytes(src, from, dst, viewStart + to, length);
          assert.deepEqual(backing, expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('copies between ArrayBuffers, short and long ranges alike, touching nothing else', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 2000 }),
        (from, to, length) => {
          const src = filled(3000, 3);
          const dst = Buffer.alloc(3000, 0xee);
          const expected = Buffer.from(dst);
          src.copy(expected, to, from, from + length);
          copyBytes(src, from, dst, to, length);
          assert.deepEqual(dst, expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a non-view source (the bounds guard) byte by byte, within its range', () => {
    const src = filled(256, 5);
    const guard = boundedView(src);
    guard.aim(10, 110, 256);
    const dst = Buffer.alloc(100);
    copyBytes(guard.view, 10, dst, 0, 100);
    assert.deepEqual(dst, src.subarray(10, 110));
  });
});
