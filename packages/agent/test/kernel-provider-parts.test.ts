// The pure parts of the kernel provider's switch features: the bindings it
// turns into the bridge's neighbour entries (and the frames it learns them
// from), the nft script and counters of port security, and the table digests
// it reads from the kernel, which must equal the userspace provider's for
// the same tables (the controller compares both with one computation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FdbEntry, IpNeighbourChange } from '@dvs/netdev';
import {
  buildArpRequest,
  buildGratuitousArp,
  parseIpAddress,
  parseIpv4Address,
  ipAddressBytes,
  writeNeighborSolicitation,
} from '@dvs/wire';
import { KernelBindings, bindingInFrame } from '../src/dpif/kernel/kernel-bindings.js';
import { kernelDigest, kernelTables } from '../src/dpif/kernel/kernel-digest.js';
import {
  NftPortSecurity,
  allowsBinding,
  parseNftCounters,
  portSecurityScript,
} from '../src/dpif/kernel/kernel-port-security.js';
import { UserspaceProvider } from '../src/dpif/userspace-provider.js';

const MAC_A = 0x020000000a0a;
const MAC_B = 0x020000000b0b;
const v4 = (ip: string): number => parseIpv4Address(ip) as number;

test('bindingInFrame: ARP and NS bind their sender; probes, DAD and a foreign sender MAC bind nothing', () => {
  assert.deepEqual(bindingInFrame(buildArpRequest(MAC_A, v4('10.0.0.1'), v4('10.0.0.2'))), {
    mac: MAC_A,
    ip: '10.0.0.1',
  });
  assert.deepEqual(bindingInFrame(buildGratuitousArp(MAC_A, v4('10.0.0.1'))), { mac: MAC_A, ip: '10.0.0.1' });
  assert.equal(bindingInFrame(buildArpRequest(MAC_A, 0, v4('10.0.0.2'))), null, 'an ARP probe');
  const spoofed = buildArpRequest(MAC_A, v4('10.0.0.1'), v4('10.0.0.2'));
  spoofed.writeUIntBE(MAC_B, 6, 6); // Ethernet source B, ARP sender A
  assert.equal(bindingInFrame(spoofed), null, 'a port speaks only for its own MAC');
  const ns = Buffer.alloc(200);
  const bytes = (ip: string): Uint8Array => ipAddressBytes(parseIpAddress(ip)!);
  const n = writeNeighborSolicitation(ns, 0, {
    srcMac: MAC_A,
    srcIp: bytes('2001:db8::1'),
    targetIp: bytes('2001:db8::2'),
  });
  assert.deepEqual(bindingInFrame(ns.subarray(0, n)), { mac: MAC_A, ip: '2001:db8::1' });
  const dad = Buffer.alloc(200);
  const m = writeNeighborSolicitation(dad, 0, { srcMac: MAC_A, srcIp: bytes('::'), targetIp: bytes('2001:db8::2') });
  assert.equal(bindingInFrame(dad.subarray(0, m)), null, 'DAD binds nothing');
});

test('KernelBindings: remote IPs follow the controller, a live binding keeps its IP, a MAC takes its bindings with it', () => {
  const b = new KernelBindings('dvsbr100');
  const out: IpNeighbourChange[] = [];
  b.setRemote(MAC_A, ['10.0.0.1', '2001:DB8::1'], out);
  assert.deepEqual(
    out.map((c) => [c.op, c.address, c.mac]),
    [
      ['replace', '10.0.0.1', MAC_A],
      ['replace', '2001:db8::1', MAC_A],
    ],
  );
  out.length = 0;
  b.setRemote(MAC_A, ['10.0.0.1'], out);
  assert.deepEqual(out, [{ op: 'del', device: 'dvsbr100', address: '2001:db8::1' }]);
  out.length = 0;
  assert.equal(
    b.learnLocal('10.0.0.1', MAC_B, () => true, out),
    false,
    'A is live: B loses',
  );
  assert.equal(b.conflicts, 1);
  assert.equal(
    b.learnLocal('10.0.0.1', MAC_B, () => false, out),
    true,
    'A is gone: B takes it',
  );
  assert.deepEqual(b.ipsOf(MAC_B), ['10.0.0.1']);
  out.length = 0;
  b.dropMac(MAC_B, 'local', out);
  assert.deepEqual(out, [{ op: 'del', device: 'dvsbr100', address: '10.0.0.1' }]);
  assert.equal(b.byIp.size, 0);
});

test('port security: the nft script, its counters read back by port, and the bindings a secured port may state', () => {
  const script = portSecurityScript([
    {
      name: 'vm1',
      device: 'vm1',
      security: { allowed: [{ mac: '52:54:00:aa:00:01', ips: ['10.99.0.1'] }], storm: { broadcastPps: 50 } },
    },
  ]);
  assert.match(script, /^table bridge dvs\ndelete table bridge dvs\ntable bridge dvs \{/);
  assert.match(script, /iifname "vm1" jump port_766d31/);
  assert.match(script, /ether saddr != \{ 52:54:00:aa:00:01 \} counter name ps_766d31_mac drop/);
  assert.match(script, /arp saddr ip != \{ 0\.0\.0\.0, 10\.99\.0\.1 \} counter name ps_766d31_arp drop/);
  assert.match(script, /ip6 saddr != \{ ::, fe80::5054:00ff:feaa:0001 \}/, 'the EUI-64 link-local passes');
  assert.match(script, /limit rate over 50\/second burst 5 packets counter name ps_766d31_bcast drop/);
  const counters = parseNftCounters(
    JSON.stringify({
      nftables: [
        { metainfo: {} },
        { counter: { name: 'ps_766d31_mac', packets: 5 } },
        { counter: { name: 'ps_766d31_arp', packets: 1 } },
        { counter: { name: 'other', packets: 9 } },
      ],
    }),
  );
  assert.equal(counters.get('vm1')?.portSecurity, 5);
  assert.equal(counters.get('vm1')?.arpSpoof, 1);
  assert.equal(counters.size, 1);
  const security = { allowed: [{ mac: '52:54:00:aa:00:01', ips: ['10.99.0.1'] }] };
  assert.equal(allowsBinding(security, undefined, 0x525400aa0001, '10.99.0.1'), true);
  assert.equal(allowsBinding(security, undefined, 0x525400aa0001, '10.0.0.7'), false);
  assert.equal(allowsBinding(security, undefined, MAC_A, '10.99.0.1'), false);
  assert.equal(allowsBinding({ lockFirstMac: true }, MAC_A, MAC_B, '10.0.0.1'), false);
  assert.equal(allowsBinding(undefined, undefined, MAC_B, '10.0.0.1'), true);
});

test('kernel table digests equal the userspace provider digests for the same tables', () => {
  const vtep = (n: number) => ({ address: `198.51.100.${n}`, port: 4789 });
  const userspace = new UserspaceProvider({ agingTimer: false });
  const applied = userspace.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
    { kind: 'peers:set', vni: 100, vteps: [vtep(2), vtep(3), vtep(4)] },
    { kind: 'flood:set', vni: 100, vteps: [vtep(2), vtep(3)] },
    { kind: 'fdb:set', vni: 100, mac: MAC_A, vtep: vtep(2), seq: 1 },
    { kind: 'fdb:set', vni: 100, mac: MAC_B, vtep: vtep(5), seq: 1 },
  ]);
  assert.equal(applied.applied, 5);
  const entry = (mac: number, dst: string, dstPort = 4789, ifindex = 7): FdbEntry => ({
    ifindex,
    master: 0,
    table: 'self',
    mac,
    vlan: 0,
    state: mac === 0 ? 'permanent' : 'static',
    dst,
    dstPort,
    vni: null,
    srcVni: null,
    via: 0,
    extLearned: false,
    sticky: false,
  });
  const held = [
    entry(0, '198.51.100.2'),
    entry(0, '198.51.100.3', 0), // port from the device
    entry(MAC_A, '198.51.100.2'),
    entry(MAC_B, '198.51.100.5'),
    entry(0x020000000c0c, '', 0), // the device's own address
    entry(0x020000000d0d, '198.51.100.9', 4789, 8), // another device's entry
  ];
  const tables = kernelTables(held, 7, 4789);
  assert.deepEqual(kernelDigest(100, tables, [vtep(2), vtep(3), vtep(4)]), userspace.tableDigest(100));
  assert.deepEqual(
    [...tables.control],
    [...(userspace.controlEntries(100) ?? new Map())].sort((a, b) => a[0].localeCompare(b[0])),
  );
  // An entry gone from the kernel changes the digest.
  const without = kernelTables(held.slice(0, 3), 7, 4789);
  assert.notDeepEqual(kernelDigest(100, without, [vtep(2), vtep(3), vtep(4)]).fdb, userspace.tableDigest(100)?.fdb);
});

test('NftPortSecurity: one whole-table transaction per change, counters carried across replacements, read at most once a second', () => {
  const calls: string[] = [];
  let packets = 3;
  let now = 0;
  const nft = (args: readonly string[], input?: string): string => {
    calls.push(args.join(' ') + (input === undefined ? '' : ` <${input.split('\n')[0]}>`));
    if (args[0] === '-j') return JSON.stringify({ nftables: [{ counter: { name: 'ps_766d31_mac', packets } }] });
    return '';
  };
  const table = new NftPortSecurity(nft, () => now);
  const vm1 = { name: 'vm1', device: 'vm1', security: { allowed: [{ mac: '52:54:00:aa:00:01' }] } };
  table.apply([vm1]);
  assert.deepEqual(calls, ['-f - <table bridge dvs>']);
  assert.equal(table.counters().get('vm1')?.portSecurity, 3);
  assert.equal(table.counters().get('vm1')?.portSecurity, 3);
  assert.equal(calls.filter((c) => c.startsWith('-j')).length, 1, 'cached within a second');
  // A replacement zeroes nft's counters: what they had is carried.
  table.apply([vm1, { ...vm1, name: 'vm2', device: 'vm2' }]);
  packets = 1;
  now += 1000;
  assert.equal(table.counters().get('vm1')?.portSecurity, 4);
  table.apply([]);
  assert.match(calls.at(-1)!, /delete table bridge dvs|table bridge dvs/);
  assert.equal(table.counters().size, 0, 'no table, no ports: nothing carried');
});
