/**
 * "No allocation per segment or per frame", measured: after a warm-up, every
 * offload path runs over more than 250,000 segments or frames without a single
 * garbage collection (one small heap object per frame, a boxed 32-bit number
 * say, would fill V8's young generation several times over). The inputs are
 * realistic where it matters: addresses and sequence numbers above 2^30.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gcsDuring } from '@dvs/test-support';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  PackedSlots,
  StridedSlots,
  TcpCoalescer,
  VIRTIO_NET_HDR_LENGTH,
  VirtioNetHeader,
  decodeVirtioNetHeader,
  innerFlowHash,
  segmentSuperFrame,
  tunnelSourcePort,
  writeVirtioNetHeader,
} from '../src/index.js';
import { type TcpFrameSpec, buildSuperFrame, patternPayload, timestampOptions } from '../src/testing/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const GSO = 1448;
const SEGMENTS = 45;
const V4: TcpFrameSpec = {
  version: 4,
  payload: patternPayload(SEGMENTS * GSO),
  options: timestampOptions(0xf0000000),
  seq: 0xffff0000,
};
const V6: TcpFrameSpec = { version: 6, vlan: 12, payload: patternPayload(SEGMENTS * GSO - 2000), seq: 0x80000000 };
const ROUNDS = 6000; // × 45 = 270,000 segments or frames per path
let sink = 0;

test('no garbage collection while segmenting, coalescing and hashing a quarter million frames each', async () => {
  const v4 = buildSuperFrame(V4, GSO);
  const v6 = buildSuperFrame(V6, GSO);

  // Segmentation in place: the pristine super-frame sits at the end of the
  // same buffer and is put back with copyWithin before each cut.
  const room = 8 + SEGMENTS * (8 + 66 + GSO);
  const inPlace = Buffer.alloc(room + v4.frame.length);
  v4.frame.copy(inPlace, room);
  const packed = new PackedSlots();
  // Segmentation into another ArrayBuffer's slots.
  const slotBuffer = Buffer.alloc(64 * 2048);
  const strided = new StridedSlots(64);
  // A receive batch holding one super-frame's segments, for the coalescers.
  const batch = Buffer.alloc(64 * 2048 + 2 * (10 + 18 + 65535));
  strided.aim(batch, 0, 2048, 64);
  const count = segmentSuperFrame(v4.frame, 0, v4.frame.length, v4.header, strided, 0) as number;
  const lengths = Uint32Array.from(strided.lengths.subarray(0, count));
  const ownStorage = new TcpCoalescer({ maxFrames: 64 });
  const sharedStorage = new TcpCoalescer({ maxFrames: 64, maxSuperFrames: 2, storage: batch.subarray(64 * 2048) });
  const out = {
    frame: () => void (sink ^= 1),
    superFrame: (_i: number, _b: Uint8Array, _o: number, length: number) => void (sink ^= length),
  };
  const tapRead = Buffer.alloc(VIRTIO_NET_HDR_LENGTH + 100);
  writeVirtioNetHeader(tapRead, 0, { flags: 1, gsoType: 1, hdrLen: 66, gsoSize: GSO, csumStart: 34, csumOffset: 16 });
  const header = new VirtioNetHeader();

  const paths: [string, () => void, () => boolean][] = [
    [
      'segment in place (PackedSlots), IPv4',
      () => {
        inPlace.copyWithin(8, room, room + v4.frame.length);
        packed.aim(inPlace, 0, room);
        sink ^= segmentSuperFrame(inPlace, 8, v4.frame.length, v4.header, packed, 8) as number;
      },
      () => packed.count === SEGMENTS,
    ],
    [
      'segment into slots of another buffer, IPv6 tagged',
      () => {
        strided.aim(slotBuffer, 0, 2048, 64);
        sink ^= segmentSuperFrame(v6.frame, 0, v6.frame.length, v6.header, strided, 8) as number;
      },
      () => strided.count === SEGMENTS - 1,
    ],
    [
      'coalesce into its own storage',
      () => {
        for (let i = 0; i < count; i++) ownStorage.push(batch, i * 2048, lengths[i], 1, i);
        ownStorage.flush(out);
      },
      () => ownStorage.stats.superFrames > ROUNDS && ownStorage.stats.merged === ownStorage.stats.superFrames * 44,
    ],
    [
      'coalesce into storage beside the batch',
      () => {
        for (let i = 0; i < count; i++) sharedStorage.push(batch, i * 2048, lengths[i], 1, i);
        sharedStorage.flush(out);
      },
      () => sharedStorage.stats.superFrames > ROUNDS,
    ],
    [
      'flow hash and source port',
      () => {
        for (let i = 0; i < count; i++) sink ^= tunnelSourcePort(innerFlowHash(batch, i * 2048, lengths[i]));
      },
      () => true,
    ],
    [
      'virtio-net header decode',
      () => {
        for (let i = 0; i < count; i++) {
          const h = decodeVirtioNetHeader(tapRead, 0, tapRead.length, VIRTIO_NET_HDR_LENGTH, header);
          if (h.ok) sink ^= h.gsoSize;
        }
      },
      () => header.gsoSize === GSO,
    ],
  ];
  for (const [name, run, worked] of paths) {
    for (let r = 0; r < 500; r++) run();
    const gcs = await gcsDuring(() => {
      for (let r = 0; r < ROUNDS; r++) run();
    }, gc);
    assert.ok(worked(), `${name}: the path really ran`);
    assert.equal(gcs, 0, `${name}: ${gcs} garbage collections`);
  }
});
