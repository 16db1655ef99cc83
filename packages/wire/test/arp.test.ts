import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ARP_FRAME_LENGTH,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  RARP_OP_REQUEST_REVERSE,
  DHCP_CHADDR_OFFSET,
  DHCP_YIADDR_OFFSET,
  buildArpReply,
  buildDhcpAck,
  dhcpAckAt,
  readMac,
  buildArpRequest,
  buildGratuitousArp,
  buildRarpAnnounce,
  decodeArp,
  decodeEthernet,
  isEthernetIpv4Arp,
  parseIpv4Address,
  parseMac,
  writeArpFrame,
  writeArpReplyInPlace,
  writeRarpAnnounce,
} from '../src/frames/index.js';
import { hex, toHex } from './hex-bytes.js';

const VM_MAC = parseMac('52:54:00:12:34:56')!;
const MAC_A = parseMac('02:00:00:00:00:0a')!;
const MAC_B = parseMac('02:00:00:00:00:0b')!;
const IP_A = parseIpv4Address('198.51.100.10')!; // c6 33 64 0a
const IP_B = parseIpv4Address('198.51.100.11')!; // c6 33 64 0b
const PAD = '00'.repeat(18);

describe('RARP announce (QEMU announce_self)', () => {
  it('matches the bytes QEMU builds in announce_self_create', () => {
    const expected = hex(`
      ff ff ff ff ff ff  52 54 00 12 34 56  80 35
      00 01  08 00  06  04  00 03
      52 54 00 12 34 56  00 00 00 00
      52 54 00 12 34 56  00 00 00 00
      ${PAD}`);
    assert.equal(expected.length, 60);
    assert.deepEqual(buildRarpAnnounce(VM_MAC), expected);
    const buf = Buffer.alloc(64, 0xee);
    assert.equal(writeRarpAnnounce(buf, 2, VM_MAC), 60);
    assert.deepEqual(buf.subarray(2, 62), expected);
    assert.equal(buf[1], 0xee);
    assert.equal(buf[62], 0xee);
  });

  it('decodes as op 3 with both hardware addresses the VM MAC', () => {
    const frame = buildRarpAnnounce(VM_MAC);
    const eth = decodeEthernet(frame, 0, frame.length);
    assert.ok(eth.ok);
    assert.equal(eth.ethertype, 0x8035);
    assert.deepEqual(decodeArp(frame, eth.payloadOffset, eth.payloadLength), {
      op: RARP_OP_REQUEST_REVERSE,
      senderMac: VM_MAC,
      senderIp: 0,
      targetMac: VM_MAC,
      targetIp: 0,
    });
  });
});

describe('ARP builders (RFC 826, RFC 5227)', () => {
  it('request: broadcast, target MAC zero', () => {
    assert.equal(
      toHex(buildArpRequest(MAC_A, IP_A, IP_B)),
      toHex(
        hex(`ff ff ff ff ff ff 02 00 00 00 00 0a 08 06
             00 01 08 00 06 04 00 01
             02 00 00 00 00 0a c6 33 64 0a
             00 00 00 00 00 00 c6 33 64 0b ${PAD}`),
      ),
    );
  });

  it('reply: unicast to the requester', () => {
    assert.deepEqual(
      buildArpReply(MAC_B, IP_B, MAC_A, IP_A),
      hex(`02 00 00 00 00 0a 02 00 00 00 00 0b 08 06
           00 01 08 00 06 04 00 02
           02 00 00 00 00 0b c6 33 64 0b
           02 00 00 00 00 0a c6 33 64 0a ${PAD}`),
    );
  });

  it('gratuitous: broadcast announcement, sender IP = target IP', () => {
    assert.deepEqual(
      buildGratuitousArp(MAC_A, IP_A),
      hex(`ff ff ff ff ff ff 02 00 00 00 00 0a 08 06
           00 01 08 00 06 04 00 01
           02 00 00 00 00 0a c6 33 64 0a
           00 00 00 00 00 00 c6 33 64 0a ${PAD}`),
    );
    assert.equal(buildGratuitousArp(MAC_A, IP_A, ARP_OP_REPLY)[21], 2);
  });

  it('writeArpFrame refuses a buffer shorter than 60 bytes and writes nothing', () => {
    const buf = Buffer.alloc(70, 0xee);
    const fields = { dstMac: 1, srcMac: 2, op: 1, senderMac: 2, senderIp: 3, targetMac: 0, targetIp: 4 };
    assert.equal(writeArpFrame(buf, 11, fields), -1);
    assert.equal(writeArpFrame(buf, -1, fields), -1);
    assert.ok(buf.every((b) => b === 0xee));
    assert.equal(writeArpFrame(buf, 10, fields), ARP_FRAME_LENGTH);
  });
});

describe('decodeArp', () => {
  const request = buildArpRequest(MAC_A, IP_A, IP_B);

  it('decodes a request and ignores trailing padding', () => {
    assert.deepEqual(decodeArp(request, 14, 46), {
      op: ARP_OP_REQUEST,
      senderMac: MAC_A,
      senderIp: IP_A,
      targetMac: 0,
      targetIp: IP_B,
    });
    assert.notEqual(decodeArp(request, 14, 28), null);
  });

  it('returns null for short input and for anything but Ethernet/IPv4', () => {
    assert.equal(decodeArp(request, 14, 27), null);
    assert.equal(decodeArp(request.subarray(0, 41), 14, 28), null);
    assert.equal(decodeArp(request, -1, 28), null);
    const mutate = (at: number, value: number): Buffer => {
      const copy = Buffer.from(request);
      copy[14 + at] = value;
      return copy;
    };
    assert.equal(decodeArp(mutate(1, 6), 14, 46), null, 'htype 6 (IEEE 802)');
    assert.equal(decodeArp(mutate(2, 0x86), 14, 46), null, 'ptype not IPv4');
    assert.equal(decodeArp(mutate(4, 8), 14, 46), null, 'hlen 8');
    assert.equal(decodeArp(mutate(5, 16), 14, 46), null, 'plen 16');
  });

  it('round-trips any fields through writeArpFrame (property)', () => {
    const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
    const ip = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const buf = Buffer.alloc(ARP_FRAME_LENGTH);
    fc.assert(
      fc.property(fc.nat(0xffff), mac, ip, mac, ip, (op, senderMac, senderIp, targetMac, targetIp) => {
        const packet = { op, senderMac, senderIp, targetMac, targetIp };
        assert.equal(writeArpFrame(buf, 0, { ...packet, dstMac: targetMac, srcMac: senderMac }), 60);
        assert.deepEqual(decodeArp(buf, 14, 46), packet);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('writeArpReplyInPlace (ARP suppression answers)', () => {
  it('turns a 42-byte request into the 60-byte reply the target would send', () => {
    const buf = Buffer.alloc(80, 0xee);
    buildArpRequest(MAC_A, IP_A, IP_B).copy(buf, 4, 0, 42); // as Linux sends it on a TAP: unpadded
    assert.equal(isEthernetIpv4Arp(buf, 4 + 14, 28), true);
    assert.equal(writeArpReplyInPlace(buf, 4, Math.floor(MAC_B / 0x1000000), MAC_B % 0x1000000), 60);
    assert.deepEqual(buf.subarray(4, 64), buildArpReply(MAC_B, IP_B, MAC_A, IP_A));
    assert.equal(buf[3], 0xee, 'nothing written before the frame');
    assert.equal(buf[64], 0xee, 'nothing written after 60 bytes');
    assert.deepEqual(decodeArp(buf, 18, 46), {
      op: ARP_OP_REPLY,
      senderMac: MAC_B,
      senderIp: IP_B,
      targetMac: MAC_A,
      targetIp: IP_A,
    });
  });

  it('writes nothing when 60 bytes do not fit', () => {
    const buf = Buffer.alloc(59);
    buildArpRequest(MAC_A, IP_A, IP_B).copy(buf, 0, 0, 42);
    const before = Buffer.from(buf);
    assert.equal(writeArpReplyInPlace(buf, 0, 1, 2), -1);
    assert.deepEqual(buf, before);
  });

  it('isEthernetIpv4Arp refuses what decodeArp refuses', () => {
    const request = buildArpRequest(MAC_A, IP_A, IP_B);
    for (const [at, value] of [
      [15, 6],
      [17, 0xdd],
      [18, 8],
      [19, 16],
    ] as const) {
      const bad = Buffer.from(request);
      bad[at] = value;
      assert.equal(isEthernetIpv4Arp(bad, 14, 46), false, `byte ${at}`);
      assert.equal(decodeArp(bad, 14, 46), null);
    }
    assert.equal(isEthernetIpv4Arp(request, 14, 27), false, 'short');
  });
});

describe('dhcpAckAt (DHCP snooping)', () => {
  const ack = (): Buffer => buildDhcpAck({ serverMac: MAC_A, serverIp: IP_A, clientMac: MAC_B, clientIp: IP_B });
  it('finds the BOOTP message of a DHCPACK, with the client MAC and the address given', () => {
    const frame = ack();
    const m = dhcpAckAt(frame, 14, frame.length - 14);
    assert.ok(m > 0);
    assert.equal(readMac(frame, m + DHCP_CHADDR_OFFSET), MAC_B);
    assert.equal(frame.readUInt32BE(m + DHCP_YIADDR_OFFSET), IP_B);
  });
  it('refuses an OFFER, a request direction, a truncated message and a fragment', () => {
    const offer = ack();
    offer[14 + 28 + 242] = 2; // option 53 value
    assert.equal(dhcpAckAt(offer, 14, offer.length - 14), -1, 'DHCPOFFER');
    const toServer = ack();
    toServer.writeUInt16BE(68, 34);
    assert.equal(dhcpAckAt(toServer, 14, toServer.length - 14), -1, 'source port 68');
    const frame = ack();
    assert.equal(dhcpAckAt(frame, 14, 200), -1, 'truncated');
    const fragment = ack();
    fragment[20] |= 0x20; // more fragments
    assert.equal(dhcpAckAt(fragment, 14, fragment.length - 14), -1, 'fragment');
  });
});
