import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  StridedSlots,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VirtioNetHeader,
  decodeVirtioNetHeader,
  internetChecksum,
  isGsoHeader,
  segmentSuperFrame,
  writeVirtioNetHeader,
} from '@dvs/wire';
import { waitFor } from '@dvs/test-support';
import { PacketBatch, SUPER_FRAME_SLOT_BYTES, openAttachedDeviceSync, openTapSync } from '../src/index.js';
import type { AttachedDevice, TapDevice } from '../src/index.js';
import { LabNamespace, isTestFrame, packetsOf, place, runTcpTransfer, testFrame } from '../src/testing/index.js';
import { forwardAsIs } from '../src/testing/offload-path.js';

// An attached port with PACKET_VNET_HDR carries super-frames as a TAP with
// offloads does, in the same header format: a "container" namespace sends TCP
// into its veth (TSO on, as veths have it); our port on the other end reads
// GSO super-frames behind virtio-net headers, and this process writes them,
// headers as read, into a TAP with offloads whose namespace receives. The
// receiver's replies go back the same way. Every byte must arrive. With an
// 802.1Q tag the port puts the tag back into the header's frame, so the
// header's csum_start and hdr_len must move with it, or whoever finishes
// the checksum or cuts the super-frame would work on the wrong bytes.

const MIB = 2 ** 20;

let container: LabNamespace;
let host: LabNamespace;
let vm: LabNamespace;
let index = 0;
before(() => {
  container = new LabNamespace(`dvn${process.pid}ca`);
  host = new LabNamespace(`dvn${process.pid}ch`);
  vm = new LabNamespace(`dvn${process.pid}cv`);
});
after(() => {
  container.dispose();
  host.dispose();
  vm.dispose();
});

interface Path {
  port: AttachedDevice;
  tap: TapDevice;
  close(): void;
}

/** container: veth end with `a`; host: its peer, attached with offloads; vm: a TAP with offloads holding `b`. */
function path(a: string, b: string): Path {
  const i = index++;
  const veth = `dvn${process.pid}e${i}`;
  const peer = `dvn${process.pid}f${i}`;
  const tapName = `dvn${process.pid}g${i}`;
  host.ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', peer);
  host.ip('link', 'set', peer, 'netns', container.name);
  host.ip('link', 'set', veth, 'up');
  container.ip('link', 'set', peer, 'up');
  const port = host.run(() => openAttachedDeviceSync({ name: veth, offloads: true }));
  const tap = vm.run(() => openTapSync({ name: tapName, mtu: 1500, offloads: true }));
  container.ip('addr', 'add', `${a}/24`, 'dev', peer);
  vm.ip('addr', 'add', `${b}/24`, 'dev', tapName);
  return {
    port,
    tap,
    close: () => {
      port.close();
      tap.close();
      host.ip('link', 'del', veth);
    },
  };
}

test("an attached port with offloads reads a container's TCP super-frames; a TAP takes them as read", async () => {
  const p = path('198.51.100.1', '198.51.100.2');
  const forward = forwardAsIs(p.port, p.tap);
  const back = forwardAsIs(p.tap, p.port);
  try {
    assert.equal(p.port.offloads.vnetHeaderLength, 10);
    const result = await runTcpTransfer({
      from: container.name,
      to: vm.name,
      address: '198.51.100.2',
      port: 5301,
      bytes: 4 * MIB,
    });
    assert.equal(result.received.bytes, 4 * MIB);
    assert.equal(result.received.sha256, result.sent.sha256);
    assert.ok(
      forward.stats.largestFrame > 1514 + 10,
      `super-frames came through (largest ${forward.stats.largestFrame} B)`,
    );
    assert.ok(forward.stats.read < (4 * MIB) / 1448, 'fewer reads than MTU-sized segments');
    assert.equal(p.tap.stats.writeDropsInvalid, 0, 'the TAP took every header the port read');
    assert.equal(p.port.stats.readDropsTooBig, 0);
  } finally {
    forward.stop();
    back.stop();
    p.close();
  }
});

test("a tagged super-frame: the port puts the 802.1Q tag back and the header's csum_start and hdr_len follow it", async () => {
  // No VLAN devices in this kernel, so the container side is a port of ours
  // too: it sends a GSO_TCPV4 super-frame with a tag in place; the receiving
  // kernel moves the tag into metadata, and our port must put it back.
  const veth = `dvn${process.pid}t`;
  host.ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
  host.ip('link', 'set', veth, 'up');
  host.ip('link', 'set', `${veth}p`, 'up');
  const { sender, port } = host.run(() => ({
    sender: openAttachedDeviceSync({ name: `${veth}p`, offloads: true }),
    port: openAttachedDeviceSync({ name: veth, offloads: true }),
  }));
  try {
    const batch = new PacketBatch(1, SUPER_FRAME_SLOT_BYTES);
    const frame = taggedTcpSuperFrame(7, 3000);
    frame.copy(batch.buffer, 0);
    batch.offsets[0] = 0;
    batch.lengths[0] = frame.length;
    assert.equal(sender.write(batch, [0], 1), 1);
    assert.equal(sender.stats.writeDropsInvalid, 0, 'the kernel took the tagged super-frame');
    const rx = new PacketBatch(64, SUPER_FRAME_SLOT_BYTES);
    const got: Buffer[] = [];
    await waitFor(
      'the super-frame (or its segments)',
      () => {
        const n = port.read(rx, 64);
        for (let i = 0; i < n; i++) got.push(Buffer.from(rx.buffer.subarray(rx.start(i), rx.start(i) + rx.lengths[i])));
        return got.reduce((sum, f) => sum + f.length, 0) >= 3000;
      },
      5000,
      2,
    );
    assert.ok(port.stats.vlanTagsRestored > 0, 'the tag came in metadata and was put back');
    const header = new VirtioNetHeader();
    let payload = 0;
    for (const bytes of got) {
      const decoded = decodeVirtioNetHeader(bytes, 0, bytes.length, 10, header);
      assert.ok(decoded.ok, 'the header decodes');
      assert.equal(bytes.readUInt16BE(10 + 12), 0x8100, 'the tag is back in place');
      assert.equal(bytes.readUInt16BE(10 + 14) & 0xfff, 7);
      assert.ok((header.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0);
      assert.equal(header.csumStart, 14 + 4 + 20, 'csum_start counts the tag');
      if (isGsoHeader(header)) {
        assert.ok(header.hdrLen === 0 || header.hdrLen >= 14 + 4 + 20 + 20, 'hdr_len counts the tag');
        const slots = new StridedSlots(64);
        const out = new Uint8Array(64 * 2048);
        slots.aim(out, 0, 2048, 64);
        const count = segmentSuperFrame(bytes, 10, bytes.length - 10, header, slots);
        assert.equal(typeof count, 'number', `segments (${String(count)})`);
        for (let k = 0; k < (count as number); k++) payload += slots.lengths[k] - 58;
      } else {
        payload += bytes.length - 10 - 58;
      }
    }
    assert.equal(payload, 3000, 'every payload byte is accounted for');
  } finally {
    sender.close();
    port.close();
    host.ip('link', 'del', veth);
  }
});

/** header (NEEDS_CSUM, GSO_TCPV4, gso_size 1000) + a tagged Ethernet/IPv4/TCP frame with `payload` bytes. */
function taggedTcpSuperFrame(vid: number, payload: number): Buffer {
  const l2 = 18;
  const frame = Buffer.alloc(10 + l2 + 20 + 20 + payload);
  const f = frame.subarray(10);
  Buffer.from([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a]).copy(f, 0);
  f.writeUInt16BE(0x8100, 12);
  f.writeUInt16BE(vid, 14);
  f.writeUInt16BE(0x0800, 16);
  const ip = f.subarray(l2);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from([198, 51, 100, 1, 198, 51, 100, 2]).copy(ip, 12);
  ip.writeUInt16BE(internetChecksum(ip, 0, 20), 10);
  const tcp = ip.subarray(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(5001, 2);
  tcp.writeUInt32BE(1, 4);
  tcp.writeUInt32BE(1, 8);
  tcp[12] = 5 << 4;
  tcp[13] = 0x10;
  tcp.writeUInt16BE(65535, 14);
  for (let i = 0; i < payload; i++) tcp[20 + i] = i & 0xff;
  writeVirtioNetHeader(frame, 0, {
    flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
    gsoType: VIRTIO_NET_HDR_GSO_TCPV4,
    hdrLen: l2 + 40,
    gsoSize: 1000,
    csumStart: l2 + 20,
    csumOffset: 16,
  });
  return frame;
}

test('offloads on an attached port need recvmmsg; a bad value is a RangeError naming the option', () => {
  const veth = `dvn${process.pid}x`;
  host.ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', `${veth}p`);
  try {
    host.run(() => {
      assert.throws(
        () => openAttachedDeviceSync({ name: veth, offloads: true, batching: 'tpacket-v3' }),
        /offloads need batching 'mmsg'/,
      );
      assert.throws(
        () => openAttachedDeviceSync({ name: veth, offloads: 1 as unknown as boolean }),
        /offloads must be a boolean/,
      );
      const plain = openAttachedDeviceSync({ name: veth });
      assert.equal(plain.offloads.vnetHeaderLength, 0);
      plain.close();
    });
  } finally {
    host.ip('link', 'del', veth);
  }
});

test('writeHeaderless on an attached port with offloads: plain frames go out behind an all-zero header, byte for byte, in order', async () => {
  const i = index;
  const p = path('198.51.100.5', '198.51.100.6');
  const rx = container.run(() => openAttachedDeviceSync({ name: `dvn${process.pid}f${i}`, batching: 'mmsg' }));
  try {
    const frames = [testFrame(1, 60), testFrame(2, 1514), testFrame(3, 14 + 4)];
    const batch = new PacketBatch(frames.length, 2048);
    frames.forEach((f, k) => place(batch, k, f, 64));
    const slots = Uint32Array.from([0, 1, 2]);
    assert.equal(p.port.writeHeaderless(batch, slots, 3), 3);
    assert.equal(p.port.stats.writeDropsInvalid, 0);
    const got: Buffer[] = [];
    const inbox = new PacketBatch(16, 2048);
    await waitFor(
      'the three frames on the far end',
      () => {
        got.push(...packetsOf(inbox, rx.read(inbox, 0)).filter(isTestFrame));
        return got.length >= 3;
      },
      5000,
      5,
    );
    assert.deepEqual(got, frames);
  } finally {
    rx.close();
    p.close();
  }
});
