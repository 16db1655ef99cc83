import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_RARP,
  ETHERTYPE_TEB,
  ETHERTYPE_VLAN,
  VLAN_MALFORMED,
  VLAN_QINQ,
  VLAN_TAG_LENGTH,
  VLAN_UNTAGGED,
  decodeEthernet,
  popVlanTag,
  pushVlanTag,
  readInnerEthertype,
  readVlanId,
  writeEthernetHeader,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

const DST_SRC = 'ff ff ff ff ff ff 02 00 00 00 00 0a';

describe('Ethernet II', () => {
  it('uses the IEEE numbers', () => {
    assert.equal(ETHERNET_HEADER_LENGTH, 14);
    assert.equal(VLAN_TAG_LENGTH, 4);
    assert.deepEqual(
      [ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_RARP, ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_IPV6, ETHERTYPE_TEB],
      [0x0800, 0x0806, 0x8035, 0x8100, 0x88a8, 0x86dd, 0x6558],
    );
  });

  it('decodes an untagged frame', () => {
    const frame = hex(`ee ${DST_SRC} 08 06 01 02 03`);
    const r = decodeEthernet(frame, 1, 17);
    assert.deepEqual(r, {
      ok: true,
      dstMac: 0xffffffffffff,
      srcMac: 0x02000000000a,
      vlanId: -1,
      pcp: 0,
      ethertype: 0x0806,
      payloadOffset: 15,
      payloadLength: 3,
    });
    assert.equal(readVlanId(frame, 1, 17), VLAN_UNTAGGED);
    assert.equal(readInnerEthertype(frame, 1, 17), 0x0806);
  });

  it('decodes a single 802.1Q tag: PCP 5, VID 100', () => {
    const frame = hex(`${DST_SRC} 81 00 a0 64 08 00 45`);
    const r = decodeEthernet(frame, 0, frame.length);
    assert.deepEqual(r, {
      ok: true,
      dstMac: 0xffffffffffff,
      srcMac: 0x02000000000a,
      vlanId: 100,
      pcp: 5,
      ethertype: 0x0800,
      payloadOffset: 18,
      payloadLength: 1,
    });
    assert.equal(readVlanId(frame, 0, frame.length), 100);
    assert.equal(readInnerEthertype(frame, 0, frame.length), 0x0800);
  });

  it('keeps VID 0 (priority tag) and the DEI bit out of the VID', () => {
    assert.equal(readVlanId(hex(`${DST_SRC} 81 00 e0 00 08 00`), 0, 18), 0);
    assert.equal(readVlanId(hex(`${DST_SRC} 81 00 1f fe 08 00`), 0, 18), 4094);
  });

  it('rejects QinQ with its own reason', () => {
    const qinqFrames = [
      `${DST_SRC} 88 a8 00 0a 81 00 00 64 08 00`,
      `${DST_SRC} 91 00 00 0a 81 00 00 64 08 00`,
      `${DST_SRC} 81 00 00 0a 81 00 00 64 08 00`,
      `${DST_SRC} 81 00 00 0a 88 a8 00 64 08 00`,
      `${DST_SRC} 88 a8`,
    ];
    for (const text of qinqFrames) {
      const frame = hex(text);
      assert.equal(readVlanId(frame, 0, frame.length), VLAN_QINQ, text);
      assert.deepEqual(decodeEthernet(frame, 0, frame.length), { ok: false, reason: 'qinq' }, text);
      assert.equal(readInnerEthertype(frame, 0, frame.length), -1);
    }
  });

  it('rejects VID 4095 and truncated headers', () => {
    const reserved = hex(`${DST_SRC} 81 00 0f ff 08 00`);
    assert.equal(readVlanId(reserved, 0, 18), VLAN_MALFORMED);
    assert.deepEqual(decodeEthernet(reserved, 0, 18), { ok: false, reason: 'reserved-vlan-id' });
    const tagged = hex(`${DST_SRC} 81 00 00 64 08 00`);
    for (const length of [0, 13, 14, 17]) {
      assert.deepEqual(decodeEthernet(tagged, 0, length), { ok: false, reason: 'truncated' }, `length ${length}`);
    }
    assert.equal(readVlanId(tagged, 0, 14), VLAN_MALFORMED);
    assert.equal(readVlanId(tagged.subarray(0, 16), 0, 18), VLAN_MALFORMED, 'length beyond the buffer');
    assert.equal(readVlanId(tagged, 10, 14), VLAN_MALFORMED);
    assert.equal(readVlanId(tagged, -1, 14), VLAN_MALFORMED);
  });

  it('writes an untagged header', () => {
    const buf = Buffer.alloc(14);
    assert.equal(writeEthernetHeader(buf, 0, 0xffffffffffff, 0x02000000000a, ETHERTYPE_ARP), 14);
    assert.deepEqual(buf, hex(`${DST_SRC} 08 06`));
  });
});

describe('802.1Q push/pop in place', () => {
  it('push moves the MACs 4 bytes left and returns the new offset', () => {
    const buf = hex(`00 00 00 00 ${DST_SRC} 08 06 aa bb`);
    const off = pushVlanTag(buf, 4, 16, 100, 5);
    assert.equal(off, 0);
    assert.deepEqual(buf, hex(`${DST_SRC} 81 00 a0 64 08 06 aa bb`));
    assert.equal(readVlanId(buf, off, 20), 100);
  });

  it('pop moves the MACs 4 bytes right and returns the new offset', () => {
    const buf = hex(`${DST_SRC} 81 00 a0 64 08 06 aa bb`);
    const off = popVlanTag(buf, 0, 20);
    assert.equal(off, 4);
    assert.deepEqual(buf.subarray(off), hex(`${DST_SRC} 08 06 aa bb`));
  });

  it('refuses without headroom, on short or untagged or QinQ frames, and writes nothing', () => {
    const untagged = hex(`00 00 00 ${DST_SRC} 08 06`);
    const before = Buffer.from(untagged);
    assert.equal(pushVlanTag(untagged, 3, 14, 100), -1, 'headroom 3');
    assert.equal(pushVlanTag(untagged, 3, 13, 100), -1, 'short');
    assert.equal(pushVlanTag(untagged, 3, 14, 4095), -1, 'reserved vid');
    assert.equal(pushVlanTag(untagged, 3, 14, 1, 8), -1, 'pcp 8');
    assert.equal(popVlanTag(untagged, 3, 14), -1, 'untagged');
    assert.deepEqual(untagged, before);
    const qinq = hex(`${DST_SRC} 88 a8 00 0a 81 00 00 64 08 00`);
    assert.equal(popVlanTag(qinq, 0, qinq.length), -1);
  });

  it('push then pop restores any frame (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 14, maxLength: 80 }),
        fc.integer({ min: 0, max: 4094 }),
        fc.nat(7),
        fc.integer({ min: 4, max: 12 }),
        (frame, vid, pcp, headroom) => {
          frame[12] = 0x08; // an untagged EtherType, so pop sees exactly our tag
          frame[13] = 0x00;
          const buf = Buffer.alloc(headroom + frame.length);
          buf.set(frame, headroom);
          const tagged = pushVlanTag(buf, headroom, frame.length, vid, pcp);
          assert.equal(tagged, headroom - 4);
          assert.equal(readVlanId(buf, tagged, frame.length + 4), vid);
          const r = decodeEthernet(buf, tagged, frame.length + 4);
          assert.ok(r.ok && r.pcp === pcp && r.ethertype === 0x0800);
          const untagged = popVlanTag(buf, tagged, frame.length + 4);
          assert.equal(untagged, headroom);
          assert.deepEqual(buf.subarray(untagged), Buffer.from(frame));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
