import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetworks, validateLabSpec, type LabSpec } from '../src/lab-spec.js';
import { isLabError } from '../src/errors.js';
import { assertLabId, devices, vmAddress, vmMac, namespaceName } from '../src/lab-layout.js';

const spec = (over: Partial<LabSpec>): LabSpec => ({
  hosts: 2,
  vmsPerHost: 2,
  kernelHosts: 0,
  networks: [{ vni: 100, encap: 'vxlan' }],
  ...over,
});

test('parseNetworks reads vni[:encap] lists with a default encap', () => {
  assert.deepEqual(parseNetworks('100:vxlan,200:gre-udp', 'vxlan'), [
    { vni: 100, encap: 'vxlan' },
    { vni: 200, encap: 'gre-udp' },
  ]);
  assert.deepEqual(parseNetworks('300', 'gre-udp'), [{ vni: 300, encap: 'gre-udp' }]);
  assert.deepEqual(parseNetworks(undefined, 'gre-udp'), [{ vni: 100, encap: 'gre-udp' }]);
});

test('parseNetworks names the bad part', () => {
  assert.throws(() => parseNetworks('100:geneve', 'vxlan'), /unknown encap "geneve"/);
  assert.throws(() => parseNetworks('0', 'vxlan'), /no valid VNI/);
  assert.throws(() => parseNetworks('100,100', 'vxlan'), /listed twice/);
});

test('validateLabSpec refuses impossible labs with DVS_LAB_BAD_SPEC', () => {
  const bad = (s: LabSpec, re: RegExp) =>
    assert.throws(
      () => validateLabSpec(s),
      (e: unknown) => isLabError(e, 'DVS_LAB_BAD_SPEC') && re.test(e.message),
    );
  bad(spec({ hosts: 0, kernelHosts: 0 }), /at least one host/);
  bad(spec({ kernelHosts: 1, networks: [{ vni: 1, encap: 'gre-udp' }] }), /kernel hosts speak VXLAN only/);
  bad(
    spec({
      networks: [
        { vni: 1, encap: 'vxlan' },
        { vni: 2, encap: 'vxlan' },
        { vni: 3, encap: 'vxlan' },
      ],
    }),
    /1 to 2 networks/,
  );
  bad(spec({ hosts: 50, vmsPerHost: 10 }), /at most 200 VMs/);
  bad(spec({ etcdNodes: 2 }), /--etcd-nodes must be 1 or 3/);
  bad(spec({ etcdNodes: 3, controlPlane: false }), /--etcd-nodes 3 needs the control plane/);
  validateLabSpec(spec({ kernelHosts: 1 }));
  validateLabSpec(spec({ etcdNodes: 3 }));
});

test('lab ids are exactly 4 characters so device prefixes never overlap', () => {
  assert.doesNotThrow(() => assertLabId('ab12'));
  for (const id of ['ab', 'abcde', 'AB12', 'a-12']) assert.throws(() => assertLabId(id), /lab id/);
});

test('every device name fits IFNAMSIZ and starts with the lab prefix', () => {
  const names = [
    devices.underlayBridge('ab12'),
    devices.underlayPort('ab12', 'h80'),
    devices.hostUplink('ab12', 'k20'),
    devices.vmTap('ab12', 200, 99),
    devices.vmVeth('ab12', 200),
    devices.vmVethPeer('ab12', 200),
    devices.kernelBridge('ab12', 9999),
    devices.kernelVxlan('ab12', 9999),
  ];
  for (const n of names) {
    assert.ok(n.length <= 15, `${n} is longer than 15 bytes`);
    assert.ok(n.startsWith('dvlab12'), n);
  }
  assert.equal(namespaceName('ab12', 'vm3'), 'dvl-ab12-vm3');
});

test('VM MACs are locally administered unicast and stable per lab and VM', () => {
  const mac = vmMac('ab12', 7);
  assert.match(mac, /^02:d5:[0-9a-f]{2}:00:00:07$/);
  assert.equal(vmMac('ab12', 7), mac);
  assert.notEqual(vmMac('ab12', 8), mac);
  assert.equal(parseInt(mac.slice(0, 2), 16) & 0x03, 0x02, 'locally administered, unicast');
});

test('VM addresses: network 1 in 192.0.2.0/24, network 2 in 203.0.113.0/24', () => {
  assert.deepEqual(vmAddress(0, 3), { address: '192.0.2.13', prefixLength: 24 });
  assert.deepEqual(vmAddress(1, 4), { address: '203.0.113.14', prefixLength: 24 });
  assert.throws(() => vmAddress(2, 1), /at most 2 networks/);
});
