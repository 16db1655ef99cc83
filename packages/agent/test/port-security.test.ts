/**
 * Port security and L2 hygiene in the data path (datapath/port-security.ts,
 * port-ingress.ts, storm-control.ts): allowed MAC/IP pairs, ARP and ND spoof
 * guards, lock to the first MAC, the per-port MAC limit, storm control and
 * tags on access ports. One host, fake devices, an injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFrameDevice } from '@dvs/netdev/testing';
import { buildArpRequest, buildGratuitousArp, parseIpv4Address, parseIpv6Address, writeMac } from '@dvs/wire';
import { DataPath, DataPathError, type PortSpec } from '../src/datapath/index.js';
import { parsePortSecurityWords } from '../src/config/port-security-config.js';
import { BROADCAST, frame, mac, settle, taggedFrame } from './frames.js';

const VM = mac('52:54:00:00:00:01');
const OTHER = mac('52:54:00:00:00:02');
const NEIGHBOUR = mac('52:54:00:00:00:03');
const ip4 = (t: string): number => parseIpv4Address(t) as number;

function host(clock: { now: number }) {
  const dp = new DataPath({ agingTimer: false, now: () => clock.now });
  dp.apply([{ kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } }]);
  const taps = new Map<string, FakeFrameDevice>();
  const add = (name: string, security?: PortSpec['security']): FakeFrameDevice => {
    const tap = new FakeFrameDevice({ name });
    dp.addPort({ name, mode: 'access', vni: 100, ...(security ? { security } : {}) }, tap);
    taps.set(name, tap);
    return tap;
  };
  return { dp, add };
}

/** An IPv4 frame (header only as far as the checks read it) from `src` with source address `from`. */
function ipv4Frame(dst: number, src: number, from: string): Buffer {
  const f = frame(dst, src, 46, 0x0800);
  f.writeUInt8(0x45, 14);
  f.writeUInt32BE(ip4(from), 26);
  return f;
}

/** An ICMPv6 neighbour advertisement (or solicitation) from `src` (link-layer option `lla`). */
function ndFrame(type: 135 | 136, src: number, from: string, target: string, lla: number): Buffer {
  const f = Buffer.alloc(14 + 40 + 32, 0);
  writeMac(f, 0, BROADCAST);
  writeMac(f, 6, src);
  f.writeUInt16BE(0x86dd, 12);
  f.writeUInt8(0x60, 14);
  f.writeUInt16BE(32, 18);
  f.writeUInt8(58, 20);
  f.writeUInt8(255, 21);
  Buffer.from(parseIpv6Address(from) as Uint8Array).copy(f, 22);
  Buffer.from(parseIpv6Address('ff02::1') as Uint8Array).copy(f, 38);
  f.writeUInt8(type, 54);
  Buffer.from(parseIpv6Address(target) as Uint8Array).copy(f, 62);
  f.writeUInt8(type === 136 ? 2 : 1, 78);
  f.writeUInt8(1, 79);
  writeMac(f, 80, lla);
  return f;
}

test('allowed pairs: other source MACs, foreign IPv4 sources and ARP/ND claims are dropped and counted; the owner passes', async () => {
  const clock = { now: 1000 };
  const { dp, add } = host(clock);
  add('vm', { allowed: [{ mac: '52:54:00:00:00:01', ips: ['10.0.0.1', '2001:db8::1'] }] });
  const peer = add('peer');
  const inject = (f: Buffer) => dp.injectFrame('vm', f);
  inject(frame(BROADCAST, OTHER)); // another MAC
  inject(ipv4Frame(BROADCAST, VM, '10.0.0.9')); // another IPv4 source
  inject(buildGratuitousArp(VM, ip4('10.0.0.2'))); // claims an address it does not own
  const wrongSha = buildArpRequest(VM, ip4('10.0.0.1'), ip4('10.0.0.3'));
  writeMac(wrongSha, 22, NEIGHBOUR); // sender hardware address of another MAC
  inject(wrongSha);
  inject(ndFrame(136, VM, 'fe80::5054:ff:fe00:1', '2001:db8::99', VM)); // NA for a target it does not own
  inject(ndFrame(135, VM, '2001:db8::1', '2001:db8::3', NEIGHBOUR)); // NS with another MAC as its link-layer address
  await settle();
  assert.equal(peer.takeWritten().length, 0, 'nothing of it was switched');
  const drops = dp.counters().drops;
  assert.equal(drops['port-security'], 2);
  assert.equal(drops['arp-spoof'], 2);
  assert.equal(drops['nd-spoof'], 2);
  assert.deepEqual(
    { ...dp.counters().portSecurity.vm },
    {
      portSecurity: 2,
      arpSpoof: 2,
      ndSpoof: 2,
      macLimit: 0,
      taggedOnAccess: 0,
      stormBroadcast: 0,
      stormMulticast: 0,
      stormUnknownUnicast: 0,
    },
  );
  assert.equal(
    dp.fdbEntries(100).some((e) => e.mac === '52:54:00:00:00:02'),
    false,
    'the spoofed MAC was not learned',
  );
  // The owner's own traffic passes: its IPv4, its ARP, DHCP from 0.0.0.0, ND for its EUI-64 link-local address.
  inject(ipv4Frame(BROADCAST, VM, '10.0.0.1'));
  inject(buildArpRequest(VM, ip4('10.0.0.1'), ip4('10.0.0.3')));
  inject(ipv4Frame(BROADCAST, VM, '0.0.0.0'));
  inject(ndFrame(136, VM, 'fe80::5054:ff:fe00:1', 'fe80::5054:ff:fe00:1', VM));
  inject(ndFrame(135, VM, '2001:db8::1', '2001:db8::3', VM));
  await settle();
  assert.equal(peer.takeWritten().length, 5);
  assert.equal(dp.portViews()[1]?.name, 'vm');
  assert.deepEqual(dp.portViews()[1]?.security?.allowed, [
    { mac: '52:54:00:00:00:01', ips: ['10.0.0.1', '2001:db8::1'] },
  ]);
});

test("lock to the first MAC: the first source MAC is the port's; another is dropped", async () => {
  const { dp, add } = host({ now: 0 });
  add('vm', { lockFirstMac: true });
  const peer = add('peer');
  dp.injectFrame('vm', frame(BROADCAST, VM));
  dp.injectFrame('vm', frame(BROADCAST, OTHER));
  dp.injectFrame('vm', frame(BROADCAST, VM));
  await settle();
  assert.equal(peer.takeWritten().length, 2);
  assert.equal(dp.counters().drops['port-security'], 1);
  assert.equal(dp.portViews()[1]?.security?.lockedMac, '52:54:00:00:00:01');
});

test('MAC limit: a port learns at most maxMacs MACs; frames from one more are dropped until one ages out', async () => {
  const clock = { now: 0 };
  const dp = new DataPath({ agingTimer: false, now: () => clock.now, agingMs: 1000 });
  dp.apply([{ kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } }]);
  dp.addPort({ name: 'vm', mode: 'access', vni: 100, security: { maxMacs: 3 } }, new FakeFrameDevice({ name: 'vm' }));
  const peer = new FakeFrameDevice({ name: 'peer' });
  dp.addPort({ name: 'peer', mode: 'access', vni: 100 }, peer);
  for (let i = 0; i < 1000; i++) dp.injectFrame('vm', frame(BROADCAST, 0x020000000000 + i));
  await settle();
  const onVm = dp.fdbEntries(100).filter((e) => e.location === 'vm');
  assert.equal(onVm.length, 3);
  assert.equal(dp.counters().drops['mac-limit'], 997);
  assert.equal(peer.takeWritten().length, 3);
  // A known MAC keeps passing at the limit; after aging a new one fits again.
  dp.injectFrame('vm', frame(BROADCAST, 0x020000000001));
  clock.now = 1000;
  dp.expire();
  dp.injectFrame('vm', frame(BROADCAST, 0x020000000999));
  await settle();
  assert.equal(peer.takeWritten().length, 2);
  assert.equal(dp.counters().drops['mac-limit'], 997);
});

test('storm control: broadcast held to its rate (burst = rate/10) while unicast from the same port passes', async () => {
  const clock = { now: 5000 };
  const { dp, add } = host(clock);
  add('vm', { storm: { broadcastPps: 100, unknownUnicastPps: 50, multicastPps: 10 } });
  const peer = add('peer');
  dp.injectFrame('peer', frame(BROADCAST, NEIGHBOUR)); // peer's MAC known: unicast to it is no flood
  await settle();
  for (let i = 0; i < 50; i++) dp.injectFrame('vm', frame(BROADCAST, VM));
  for (let i = 0; i < 50; i++) dp.injectFrame('vm', frame(NEIGHBOUR, VM));
  for (let i = 0; i < 50; i++) dp.injectFrame('vm', frame(mac('01:00:5e:00:00:01'), VM));
  for (let i = 0; i < 50; i++) dp.injectFrame('vm', frame(mac('02:00:00:00:99:99'), VM));
  await settle();
  // Bursts: 10 broadcast, 1 multicast, 5 unknown unicast; every one of the 50 known unicast.
  assert.equal(peer.takeWritten().length, 10 + 50 + 1 + 5);
  const s = dp.counters().portSecurity.vm!;
  assert.deepEqual([s.stormBroadcast, s.stormMulticast, s.stormUnknownUnicast], [40, 49, 45]);
  // 200 ms later: 100 pps refilled 20 tokens, but a bucket holds at most its burst (10).
  clock.now += 200;
  for (let i = 0; i < 50; i++) dp.injectFrame('vm', frame(BROADCAST, VM));
  await settle();
  assert.equal(peer.takeWritten().length, 10);
});

test('a tagged or double-tagged frame on an access port is dropped (tagged-on-access)', async () => {
  const { dp, add } = host({ now: 0 });
  add('vm');
  const peer = add('peer');
  dp.injectFrame('vm', taggedFrame(BROADCAST, VM, 20));
  const qinq = taggedFrame(BROADCAST, VM, 20, 50, 0x8100);
  qinq.writeUInt16BE(0x88a8, 12);
  dp.injectFrame('vm', qinq);
  await settle();
  assert.equal(peer.takeWritten().length, 0);
  assert.equal(dp.counters().drops['tagged-on-access'], 2);
  assert.equal(dp.counters().portSecurity.vm?.taggedOnAccess, 2);
});

test('invalid port security is refused with the field named, and nothing is added', () => {
  const { dp } = host({ now: 0 });
  const bad = [
    { allowed: [{ mac: 'ff:ff:ff:ff:ff:ff' }] },
    { allowed: [{ mac: '52:54:00:00:00:01', ips: ['10.0.0.300'] }] },
    { maxMacs: -1 },
    { storm: { broadcastPps: 1.5 } },
    { lockFirstMac: true, allowed: [{ mac: '52:54:00:00:00:01' }] },
  ];
  const fields = ['allowed[0].mac', 'allowed[0].ips', 'maxMacs', 'storm.broadcastPps', 'lockFirstMac'];
  bad.forEach((security, i) => {
    assert.throws(
      () => dp.addPort({ name: 'vm', mode: 'access', vni: 100, security }, new FakeFrameDevice({ name: 'vm' })),
      (e: unknown) => e instanceof DataPathError && e.code === 'DVS_BAD_ARGUMENT' && e.message.includes(fields[i]!),
    );
    assert.equal(dp.hasPort('vm'), false);
  });
  assert.deepEqual(
    parsePortSecurityWords(['allow=52:54:00:00:00:01,10.0.0.1', 'max-macs=4', 'storm-broadcast=100'], 'vm'),
    {
      allowed: [{ mac: '52:54:00:00:00:01', ips: ['10.0.0.1'] }],
      maxMacs: 4,
      storm: { broadcastPps: 100 },
    },
  );
  assert.match(String(parsePortSecurityWords(['max-macs=lots'], 'vm')), /max-macs=lots/);
});
