// The Linux kernel's vxlan device as a peer: byte compatibility both ways.
//
// Two namespaces of our own joined by a veth pair: in dvw<pid>k, a kernel
// vxlan device for VNI 100 on 192.0.2.1:4789 with a static FDB entry that
// sends frames for our VM's MAC to 192.0.2.2:4790; in dvw<pid>p, a UDP socket
// of ours on that address. (One namespace over loopback does not work: the
// kernel short-cuts vxlan traffic to local addresses.) We send an ARP request
// in a VXLAN header we wrote; the kernel must decapsulate it (it learns our
// neighbour) and answer with a VXLAN packet our decoders read: VNI 100, the
// device's MAC and address. A request under VNI 101 (no such device) must be
// ignored. GRE-in-UDP has no kernel counterpart here (gretap over fou needs
// modules this host may not load); tshark judges it instead.
//
// Needs root and iproute2 with vxlan. In CI (process.env.CI) a missing
// prerequisite fails the test; elsewhere the suite is skipped with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  ARP_OP_REPLY,
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  VXLAN_HEADER_LENGTH,
  buildArpRequest,
  decodeArp,
  decodeEthernet,
  parseIpv4Address,
  parseMac,
  readVxlanVni,
  writeVxlanHeader,
} from '../src/frames/index.js';
import { hex } from './hex-bytes.js';

const NS = `dvw${process.pid}k`;
const PEER_NS = `dvw${process.pid}p`;
const DEVICE = 'dvwvx0';
const VETH = `dvw${process.pid}a`;
const PEER_VETH = `dvw${process.pid}b`;
const KERNEL_VTEP = '192.0.2.1';
const PEER_VTEP = '192.0.2.2';
const KERNEL_MAC = parseMac('02:00:00:00:00:01')!;
const KERNEL_IP = '198.51.100.1';
const VM_MAC = parseMac('02:00:00:00:00:0b')!;
const VM_IP = '198.51.100.2';
const STRAY_MAC = parseMac('02:00:00:00:00:0c')!;
const STRAY_IP = '198.51.100.3';
const OUR_PORT = 4790;

function run(args: string[], allowFailure = false): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', timeout: 20_000 });
  if (!allowFailure && r.status !== 0) {
    throw new Error(`${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  }
  return r.stdout;
}

function missingPrerequisite(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (spawnSync('ip', ['-V']).status !== 0) return 'needs iproute2 (ip)';
  return null;
}

const missing = missingPrerequisite();
const skip = missing !== null && !process.env.CI ? missing : false;

/**
 * Runs in the namespace: sends each datagram (hex) to the kernel's vxlan
 * port from OUR_PORT, 100 ms apart, then prints the first datagram received
 * (hex) or "timeout" after 5 s. Pure node:dgram; our codecs stay in this process.
 */
const PEER_SCRIPT = `
import dgram from 'node:dgram';
const [port, ...payloads] = process.argv.slice(1);
const sock = dgram.createSocket('udp4');
const timer = setTimeout(() => { console.log('timeout'); process.exit(0); }, 5000);
sock.on('message', (msg, rinfo) => {
  console.log(JSON.stringify({ hex: msg.toString('hex'), from: rinfo.address + ':' + rinfo.port }));
  clearTimeout(timer);
  sock.close();
});
sock.bind(Number(port), '${PEER_VTEP}', async () => {
  for (const p of payloads) {
    sock.send(Buffer.from(p, 'hex'), 4789, '${KERNEL_VTEP}');
    await new Promise((r) => setTimeout(r, 100));
  }
});
`;

function vxlanDatagram(vni: number, frame: Buffer): string {
  const buf = Buffer.alloc(VXLAN_HEADER_LENGTH + frame.length);
  writeVxlanHeader(buf, 0, vni);
  frame.copy(buf, VXLAN_HEADER_LENGTH);
  return buf.toString('hex');
}

describe('kernel vxlan device as a peer', { skip }, () => {
  before(() => {
    if (missing) return;
    run(['ip', 'netns', 'add', NS]);
    run(['ip', 'netns', 'add', PEER_NS]);
    run(['ip', '-n', NS, 'link', 'add', VETH, 'type', 'veth', 'peer', 'name', PEER_VETH, 'netns', PEER_NS]);
    run(['ip', '-n', NS, 'addr', 'add', `${KERNEL_VTEP}/24`, 'dev', VETH]);
    run(['ip', '-n', PEER_NS, 'addr', 'add', `${PEER_VTEP}/24`, 'dev', PEER_VETH]);
    for (const [ns, dev] of [
      [NS, VETH],
      [PEER_NS, PEER_VETH],
      [NS, 'lo'],
      [PEER_NS, 'lo'],
    ]) {
      run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    const vxlan = `link add ${DEVICE} type vxlan id 100 local ${KERNEL_VTEP} dstport 4789 nolearning`;
    run(['ip', '-n', NS, ...vxlan.split(' ')]);
    run(['ip', '-n', NS, 'link', 'set', DEVICE, 'address', '02:00:00:00:00:01', 'up']);
    run(['ip', '-n', NS, 'addr', 'add', `${KERNEL_IP}/24`, 'dev', DEVICE]);
    const fdb = `fdb add 02:00:00:00:00:0b dev ${DEVICE} dst ${PEER_VTEP} port ${OUR_PORT} self permanent`;
    run(['bridge', '-n', NS, ...fdb.split(' ')]);
  });

  after(() => {
    if (missing) return;
    run(['ip', 'netns', 'del', NS], true); // takes the veth pair with it
    run(['ip', 'netns', 'del', PEER_NS], true);
  });

  it('has its prerequisites', () => {
    assert.equal(missing, null, `kernel vxlan test (CI is set): ${missing}`);
  });

  it('decapsulates our VXLAN header and answers in one we decode', () => {
    const stray = buildArpRequest(STRAY_MAC, parseIpv4Address(STRAY_IP)!, parseIpv4Address(KERNEL_IP)!);
    const request = buildArpRequest(VM_MAC, parseIpv4Address(VM_IP)!, parseIpv4Address(KERNEL_IP)!);
    const out = run([
      'ip',
      'netns',
      'exec',
      PEER_NS,
      process.execPath,
      '--input-type=module',
      '-e',
      PEER_SCRIPT,
      String(OUR_PORT),
      vxlanDatagram(101, stray),
      vxlanDatagram(100, request),
    ]).trim();
    assert.notEqual(out, 'timeout', 'the kernel did not answer our VXLAN-encapsulated ARP request');
    const { hex: replyHex, from } = JSON.parse(out) as { hex: string; from: string };
    const reply = Buffer.from(replyHex, 'hex');
    assert.ok(from.startsWith(`${KERNEL_VTEP}:`), from);

    // The kernel's VXLAN header is byte for byte the one we write for VNI 100.
    assert.deepEqual(reply.subarray(0, 8), hex('08 00 00 00 00 00 64 00'));
    assert.equal(readVxlanVni(reply, 0, reply.length), 100);

    const eth = decodeEthernet(reply, 8, reply.length - 8);
    assert.ok(eth.ok);
    assert.deepEqual([eth.srcMac, eth.dstMac, eth.ethertype], [KERNEL_MAC, VM_MAC, ETHERTYPE_ARP]);
    assert.deepEqual(decodeArp(reply, eth.payloadOffset, eth.payloadLength), {
      op: ARP_OP_REPLY,
      senderMac: KERNEL_MAC,
      senderIp: parseIpv4Address(KERNEL_IP),
      targetMac: VM_MAC,
      targetIp: parseIpv4Address(VM_IP),
    });
    assert.notEqual(eth.dstMac, BROADCAST_MAC);

    // The kernel learned our neighbour from the frame we encapsulated, and
    // nothing from the one sent under a VNI it does not serve.
    const neighbours = run(['ip', '-n', NS, 'neigh', 'show', 'dev', DEVICE]);
    assert.match(neighbours, new RegExp(`^${VM_IP.replace(/\./g, '\\.')} lladdr 02:00:00:00:00:0b`, 'm'));
    assert.doesNotMatch(neighbours, new RegExp(STRAY_IP.replace(/\./g, '\\.')));
  });
});
