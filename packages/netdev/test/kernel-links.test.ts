import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dvsLinkAlias, dvsLinkName, isDvsLink, isNetdevError, openRtnetlink, parseDvsLinkName } from '../src/index.js';
import type { NetdevErrorCode, Rtnetlink } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';

// Creating and changing bridges and vxlan devices through Rtnetlink, checked
// against what `ip -d link show` prints, in a namespace of our own.

const id = `dvk${process.pid}`;
let ns: LabNamespace;
let rtnl: Rtnetlink;
let seq = 0;
const uniqueName = (): string => `${id}l${seq++}`;

before(() => {
  ns = new LabNamespace(`${id}l`);
  rtnl = ns.run(() => openRtnetlink());
});
after(() => {
  rtnl.close();
  ns.dispose();
});

function details(name: string): string {
  return ns.ip('-d', 'link', 'show', 'dev', name);
}

function throwsCode(fn: () => unknown, code: NetdevErrorCode, message?: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(isNetdevError(err, code), `expected ${code}, got ${String(err)}`);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

test('a bridge and a vxlan port made for a kernel datapath: no learning on the tunnel, neigh_suppress, marked as dvs', () => {
  const bridgeName = uniqueName();
  const vxlanName = uniqueName();
  const bridge = rtnl.createBridge({
    name: bridgeName,
    alias: dvsLinkAlias('vni=100 role=bridge'),
    ageingSeconds: 120,
    mtu: 1450,
  });
  assert.equal(bridge.kind, 'bridge');
  assert.equal(bridge.up, true);
  assert.equal(bridge.mtu, 1450);
  assert.deepEqual(bridge.bridge, { ageingSeconds: 120, vlanFiltering: false, stp: false, multicastSnooping: true });
  assert.ok(isDvsLink(bridge));
  assert.match(details(bridgeName), /ageing_time 12000 /);
  assert.match(details(bridgeName), /alias dvs:vni=100 role=bridge/);

  const vxlan = rtnl.createVxlan({
    name: vxlanName,
    alias: dvsLinkAlias('vni=100 role=vxlan'),
    vni: 100,
    local: '198.51.100.1',
    mtu: 1450,
    ttl: 64,
    master: bridgeName,
    bridgePort: { neighSuppress: true },
  });
  assert.equal(vxlan.kind, 'vxlan');
  assert.equal(vxlan.masterIndex, bridge.ifindex);
  assert.equal(vxlan.vxlan?.vni, 100);
  assert.equal(vxlan.vxlan?.local, '198.51.100.1');
  assert.equal(vxlan.vxlan?.port, 4789, 'the IANA port, not the kernel default 8472');
  assert.equal(vxlan.vxlan?.group, '', 'no remote or group: head-end replication');
  assert.equal(vxlan.vxlan?.learning, false);
  assert.equal(vxlan.vxlan?.ttl, 64);
  assert.equal(vxlan.bridgePort?.learning, false, 'learning follows the device');
  assert.equal(vxlan.bridgePort?.neighSuppress, true);
  const shown = details(vxlanName);
  assert.match(shown, new RegExp(`master ${bridgeName} `));
  assert.match(shown, /vxlan id 100 local 198\.51\.100\.1 .*dstport 4789 nolearning ttl 64 /);
  assert.match(shown, /bridge_slave .* learning off /);
  assert.match(shown, / neigh_suppress on /);
  assert.match(shown, /alias dvs:vni=100 role=vxlan/);

  // A restarted agent finds them by their mark.
  const marked = rtnl.links().filter(isDvsLink);
  assert.deepEqual(marked.map((l) => l.name).sort(), [bridgeName, vxlanName].sort());
  rtnl.deleteLink(vxlanName);
  rtnl.deleteLink(bridgeName);
  assert.equal(rtnl.link(bridgeName), undefined);
});

test('a bridge given its address keeps it when a port with a lower MAC joins, and its neighbour entries stay; without one they are flushed', () => {
  // The kernel gives an addressless bridge the lowest MAC of its ports, and each
  // change of its address flushes its neighbour table (ARP/ND suppression's bindings).
  const neighbours = (bridge: string): string => ns.ip('neigh', 'show', 'dev', bridge, 'nud', 'all');
  const withPortOfLowerMac = (bridge: string): void => {
    const port = uniqueName();
    ns.ip('link', 'add', port, 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', `${port}p`);
    rtnl.setLink(port, { master: bridge, up: true });
  };
  const fixed = uniqueName();
  const link = rtnl.createBridge({ name: fixed, address: 0x0affeeddccbb });
  assert.equal(link.mac, '0a:ff:ee:dd:cc:bb');
  const loose = uniqueName();
  rtnl.createBridge({ name: loose });
  for (const bridge of [fixed, loose]) {
    ns.ip('neigh', 'replace', '192.0.2.77', 'lladdr', '02:00:00:00:00:77', 'dev', bridge, 'nud', 'noarp');
    assert.match(neighbours(bridge), /192\.0\.2\.77 lladdr 02:00:00:00:00:77 NOARP/);
    withPortOfLowerMac(bridge);
  }
  assert.equal(rtnl.link(fixed)?.mac, '0a:ff:ee:dd:cc:bb', 'the given address stays');
  assert.match(neighbours(fixed), /192\.0\.2\.77 lladdr 02:00:00:00:00:77 NOARP/, 'the entry survives the new port');
  assert.equal(rtnl.link(loose)?.mac, '02:00:00:00:00:01', "the addressless bridge took the port's MAC");
  assert.doesNotMatch(
    neighbours(loose),
    /192\.0\.2\.77/,
    'and lost its neighbour entries: the reason dvs sets the address',
  );
  assert.equal(rtnl.setLink(loose, { address: 0x0affeeddccba }).mac, '0a:ff:ee:dd:cc:ba', 'setLink sets it too');
  throwsCode(
    () => rtnl.createBridge({ name: uniqueName(), address: 0x010000000001 }),
    'DVS_NETLINK_INVALID',
    /^address must be a unicast MAC/,
  );
  for (const bridge of [fixed, loose]) rtnl.deleteLink(bridge);
});

test('setLink: MTU, down and up, enslave with port flags, release, alias removed', () => {
  const bridgeName = uniqueName();
  const port = uniqueName();
  rtnl.createBridge({ name: bridgeName });
  ns.ip('link', 'add', port, 'type', 'veth', 'peer', 'name', `${port}p`);
  try {
    let link = rtnl.setLink(port, { mtu: 1400, up: true, alias: 'dvs:port' });
    assert.equal(link.mtu, 1400);
    assert.equal(link.adminUp, true);
    assert.equal(link.alias, 'dvs:port');
    link = rtnl.setLink(port, {
      master: bridgeName,
      bridgePort: { hairpin: true, unicastFlood: false, multicastFlood: false, isolated: true, learning: false },
    });
    assert.equal(link.masterIndex, rtnl.link(bridgeName)?.ifindex);
    assert.deepEqual(
      { ...link.bridgePort, state: undefined },
      {
        learning: false,
        neighSuppress: false,
        unicastFlood: false,
        multicastFlood: false,
        broadcastFlood: true,
        hairpin: true,
        isolated: true,
        state: undefined,
      },
    );
    assert.match(details(port), /hairpin on .* learning off flood off .* mcast_flood off .* isolated on/);
    link = rtnl.setLink(port, { master: null, alias: null, up: false });
    assert.equal(link.masterIndex, 0);
    assert.equal(link.bridgePort, undefined);
    assert.equal(link.alias, '');
    assert.equal(link.adminUp, false);
    assert.doesNotMatch(details(port), /alias/);
  } finally {
    ns.ip('link', 'del', port);
    rtnl.deleteLink(bridgeName);
  }
});

test('external (collect-metadata) mode with a VNI filter, and an IPv6 VTEP with zero UDP checksums', () => {
  const external = uniqueName();
  const v6 = uniqueName();
  const link = rtnl.createVxlan({ name: external, external: true, vniFilter: true, local: '198.51.100.1', port: 4800 });
  assert.equal(link.vxlan?.external, true);
  assert.equal(link.vxlan?.vniFilter, true);
  assert.equal(link.vxlan?.vni, null, 'the VNI comes with each packet');
  assert.match(details(external), /vxlan external vnifilter/);
  const six = rtnl.createVxlan({
    name: v6,
    vni: 6,
    local: '2001:db8::1',
    port: 4801,
    udp6ZeroChecksumTx: true,
    udp6ZeroChecksumRx: true,
  });
  assert.equal(six.vxlan?.local, '2001:db8::1');
  assert.match(details(v6), /udp6zerocsumtx udp6zerocsumrx/);
  // One UDP port, one owner: a VNI device cannot share an external device's port.
  throwsCode(
    () => rtnl.createVxlan({ name: uniqueName(), vni: 7, port: 4800 }),
    'DVS_ADDRESS_IN_USE',
    /create vxlan .*: the address and port are already bound/,
  );
  rtnl.deleteLink(external);
  rtnl.deleteLink(v6);
});

test('refusals: named fields before anything is sent, the kernel reason after; nothing is left half made', () => {
  const before = rtnl.links().map((l) => l.name);
  throwsCode(() => rtnl.createVxlan({ name: uniqueName() }), 'DVS_NETLINK_INVALID', /^vni is required/);
  throwsCode(
    () => rtnl.createVxlan({ name: uniqueName(), vni: 2 ** 24 }),
    'DVS_NETLINK_INVALID',
    /^vni must be an integer of 0\.\.16777215/,
  );
  throwsCode(
    () => rtnl.createVxlan({ name: uniqueName(), vni: 1, local: '198.51.100' }),
    'DVS_NETLINK_INVALID',
    /^local must be an IPv4 or IPv6 address/,
  );
  throwsCode(
    () => rtnl.createVxlan({ name: uniqueName(), external: true, vni: 5 }),
    'DVS_NETLINK_INVALID',
    /^vni must be absent/,
  );
  throwsCode(
    () => rtnl.createVxlan({ name: uniqueName(), vni: 1, master: 'nobridge' }),
    'DVS_NO_DEVICE',
    /master nobridge/,
  );
  throwsCode(
    () => rtnl.createBridge({ name: uniqueName(), mtu: 20 }),
    'DVS_NETLINK_INVALID',
    /^mtu must be an integer of 68\.\.65535/,
  );
  throwsCode(() => rtnl.createBridge({ name: 'a-name-much-too-long' }), 'DVS_NAME_TOO_LONG');
  throwsCode(
    () => rtnl.createBridge({ name: uniqueName(), alias: 'x'.repeat(256) }),
    'DVS_NETLINK_INVALID',
    /^alias must be/,
  );
  const bridge = uniqueName();
  rtnl.createBridge({ name: bridge });
  throwsCode(
    () => rtnl.setLink(bridge, { bridgePort: { learnign: false } as never }),
    'DVS_NETLINK_INVALID',
    /^bridgePort\.learnign is not a bridge port flag/,
  );
  throwsCode(() => rtnl.createBridge({ name: bridge }), 'DVS_NETLINK_EXISTS', new RegExp(`create bridge ${bridge}`));
  const vxlan = uniqueName();
  rtnl.createVxlan({ name: vxlan, vni: 300, port: 4802 });
  // The kernel's own reason (an extended ack) comes through.
  throwsCode(
    () => rtnl.createVxlan({ name: uniqueName(), vni: 300, port: 4802 }),
    'DVS_NETLINK_EXISTS',
    /kernel: A VXLAN device with the specified VNI already exists/,
  );
  // A vxlan device is not a bridge: it cannot be a master, and a non-port has no port flags.
  throwsCode(
    () => rtnl.setLink(bridge, { master: vxlan }),
    'DVS_NETLINK_UNSUPPORTED',
    new RegExp(`set link ${bridge}`),
  );
  throwsCode(() => rtnl.setLink(vxlan, { bridgePort: { learning: false } }), 'DVS_NETLINK_UNSUPPORTED');
  throwsCode(() => rtnl.deleteLink('nosuchlink'), 'DVS_NO_DEVICE', /link nosuchlink: no such device/);
  throwsCode(() => rtnl.deleteLink(999999), 'DVS_NO_DEVICE', /delete link 999999/);
  rtnl.deleteLink(vxlan);
  rtnl.deleteLink(bridge);
  assert.deepEqual(
    rtnl.links().map((l) => l.name),
    before,
    'no link left over',
  );
});

test('dvs link names', () => {
  assert.equal(dvsLinkName('bridge', 100), 'dvsbr100');
  assert.equal(dvsLinkName('vxlan', 16777215), 'dvsvx16777215');
  assert.equal(dvsLinkName('vxlan'), 'dvsvx');
  assert.deepEqual(parseDvsLinkName('dvsvx16777215'), { role: 'vxlan', vni: 16777215 });
  assert.deepEqual(parseDvsLinkName('dvsvx'), { role: 'vxlan', vni: null });
  assert.equal(parseDvsLinkName('dvsvx007'), null);
  assert.equal(parseDvsLinkName('br0'), null);
  assert.equal(isDvsLink({ alias: 'dvs:x' }), true);
  assert.equal(isDvsLink({ alias: 'dvs' }), false);
});

test('a closed handle refuses every call', () => {
  const handle = ns.run(() => openRtnetlink());
  handle.close();
  handle.close();
  throwsCode(() => handle.links(), 'DVS_CLOSED');
  throwsCode(() => handle.applyFdbSync([]), 'DVS_CLOSED');
  assert.throws(() => openRtnetlink({ fdbBatchMessages: 0 }), RangeError);
});
