/**
 * The data path never throws on input: property tests with fast-check feed
 * arbitrary frames into access and trunk ports and arbitrary (and almost
 * valid) packets into the tunnel socket, unguarded, and check what comes out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketBatch, type TunnelSocket } from '@dvs/netdev';
import { FakeFrameDevice } from '@dvs/netdev/testing';
import { DataPath, HEADROOM } from '../src/datapath/index.js';
import type { Pipeline, SocketTarget } from '../src/datapath/pipeline.js';

const sent: Buffer[] = [];
const socket: TunnelSocket = {
  localAddress: '198.51.100.1',
  localPort: 4789,
  recv: () => 0,
  send: (b, slots, n) => {
    for (let k = 0; k < n; k++)
      sent.push(Buffer.from(b.buffer.subarray(b.start(slots[k]), b.start(slots[k]) + b.lengths[slots[k]])));
    return n;
  },
  onReadable() {},
  close() {},
};

function setup() {
  const dp = new DataPath({ agingTimer: false, fdbLimit: 16 });
  dp.attachSocket('vxlan', socket);
  dp.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
    { kind: 'network:set', network: { vni: 200, encap: 'vxlan', mtu: 1450 } },
    { kind: 'flood:set', vni: 100, vteps: [{ address: '198.51.100.2', port: 4789 }] },
    { kind: 'flood:set', vni: 200, vteps: [{ address: '198.51.100.2', port: 4789 }] },
  ]);
  const access = new FakeFrameDevice({ name: 'acc' });
  const trunk = new FakeFrameDevice({ name: 'trk' });
  dp.addPort({ name: 'acc', mode: 'access', vni: 100 }, access);
  dp.addPort(
    {
      name: 'trk',
      mode: 'trunk',
      vlans: new Map([
        [10, 100],
        [20, 200],
      ]),
    },
    trunk,
  );
  const pipeline = (dp as unknown as { pipeline: Pipeline }).pipeline;
  return { dp, access, trunk, pipeline, target: pipeline.sockets.get('vxlan') as SocketTarget };
}

const frameBytes = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 200 }),
  // Ethernet-shaped: MACs, then a VLAN tag or not, then anything.
  fc
    .tuple(
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.constantFrom(
        [0x81, 0x00, 0x00, 10],
        [0x81, 0x00, 0x00, 20],
        [0x81, 0x00, 0x0f, 0xff],
        [0x88, 0xa8, 0, 10],
        [0x08, 0x00],
        [],
      ),
      fc.uint8Array({ minLength: 0, maxLength: 1600 }),
    )
    .map(([macs, tag, rest]) => Uint8Array.from([...macs, ...tag, ...rest])),
);

test('frames of any shape from access and trunk ports never throw; outputs are well formed', () => {
  const { dp, access, trunk } = setup();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), frameBytes), { maxLength: 30 }), (frames) => {
      sent.length = 0;
      for (const [fromTrunk, f] of frames) dp.injectFrame(fromTrunk ? 'trk' : 'acc', f);
      for (const out of trunk.takeWritten()) {
        assert.equal(out.readUInt16BE(12), 0x8100, 'trunk egress is tagged');
        assert.ok([10, 20].includes(out.readUInt16BE(14) & 0xfff), 'with a mapped VLAN');
      }
      for (const out of access.takeWritten()) assert.ok(out.length >= 14 && out.length <= 1450 + 14 + 4);
      // Access ports carry a VM's own tags transparently; trunk tags never enter the tunnel.
      const accessTagged = frames.some(([t, f]) => !t && f.length >= 14 && f[12] === 0x81 && f[13] === 0);
      for (const p of sent) {
        assert.equal(p[0], 0x08, 'VXLAN I flag');
        const vni = p.readUIntBE(4, 3);
        assert.ok(vni === 100 || vni === 200);
        if (!accessTagged) assert.notEqual(p.readUInt16BE(8 + 12), 0x8100, 'no trunk tag inside the tunnel');
      }
    }),
    { numRuns: 300 },
  );
  assert.equal(dp.counters().internalErrors, 0);
});

test('packets of any shape from the underlay never throw (process unguarded)', () => {
  const { dp, pipeline, target, access, trunk } = setup();
  const batch = new PacketBatch(32, 2048);
  const packet = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 300 }),
    fc
      .tuple(fc.constantFrom(100, 200, 300, 0), fc.uint8Array({ minLength: 0, maxLength: 300 }))
      .map(([vni, rest]) => Uint8Array.from([0x08, 0, 0, 0, vni >> 16, (vni >> 8) & 255, vni & 255, 0, ...rest])),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(packet, fc.constantFrom(0xc6336402, 0xc6336409)), { minLength: 1, maxLength: 32 }),
      (packets) => {
        packets.forEach(([p, source], i) => {
          batch.buffer.set(p, i * batch.slotSize + HEADROOM);
          batch.offsets[i] = HEADROOM;
          batch.lengths[i] = p.length;
          batch.setIpv4Destination(i, source, 40000);
        });
        pipeline.processTunnelBatch(target, batch, packets.length);
        for (const out of [...access.takeWritten(), ...trunk.takeWritten()]) assert.ok(out.length >= 14);
      },
    ),
    { numRuns: 300 },
  );
  assert.equal(dp.counters().internalErrors, 0);
  assert.ok(dp.counters().drops.malformed > 0);
});
