// addChecksumBytes sums long ranges 32 bits at a time through a view of the
// whole ArrayBuffer; every alignment of start and end, and chaining, must give
// what a plain byte-pair sum gives (tcp-frames.ts's reference).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addChecksumBytes, finishChecksum, foldChecksum, internetChecksum } from '../src/index.js';
import { boundedView } from './bounded-view.js';
import { referenceChecksum } from '../src/testing/index.js';

describe('addChecksumBytes', () => {
  it('agrees with a byte-pair sum for every alignment, length and view offset', () => {
    const backing = new Uint8Array(8192 + 16);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom('random', 'zeros', 'ones'),
        (viewOffset, off, length, seed, fill) => {
          const view = new Uint8Array(backing.buffer, viewOffset, 8192);
          let s = seed >>> 0 || 1;
          for (let i = 0; i < off + length; i++) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            view[i] = fill === 'random' ? s >>> 24 : fill === 'ones' ? 0xff : 0;
          }
          const ours = finishChecksum(addChecksumBytes(0, view, off, length));
          assert.equal(ours, referenceChecksum(view, off, off + length), `view +${viewOffset}, [${off}, +${length})`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('chains: a pseudo-header sum, then even-length ranges, then the rest', () => {
    const data = Buffer.alloc(3001);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    const whole = referenceChecksum(data, 1, 3001, 0x1234 + 0xabcd);
    let sum = 0x1234 + 0xabcd;
    sum = addChecksumBytes(sum, data, 1, 1000);
    sum = addChecksumBytes(sum, data, 1001, 64);
    sum = addChecksumBytes(sum, data, 1065, 1936);
    assert.equal(finishChecksum(sum), whole);
    assert.equal(foldChecksum(sum) ^ 0xffff, whole, 'fold = the checksum uncomplemented');
  });

  it('takes the byte-pair path for arrays that are not real views, with the same result', () => {
    const data = Buffer.alloc(512);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
    const guard = boundedView(data);
    guard.aim(3, 3 + 500, 512);
    assert.equal(internetChecksum(guard.view, 3, 500), internetChecksum(data, 3, 500));
    assert.equal(internetChecksum(data, 3, 500), referenceChecksum(data, 3, 503));
  });

  it('sums 64 KiB of 0xff without losing precision', () => {
    const data = Buffer.alloc(65536, 0xff);
    assert.equal(
      finishChecksum(addChecksumBytes(0xffffffff, data, 0, 65536)),
      referenceChecksum(data, 0, 65536, 0xffff),
    );
  });
});
