import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedFloodLists, missingFloodMembers } from '../src/table-readiness.js';
import { newLabState, type LabState } from '../src/lab-state.js';
import type { AdminClient } from '@dvs/admin-client';

function state(): LabState {
  const s = newLabState('ab12');
  s.networks = [
    { index: 0, vni: 100, name: 'a', encap: 'vxlan', subnet: '192.0.2.0/24' },
    { index: 1, vni: 200, name: 'b', encap: 'gre-udp', subnet: '203.0.113.0/24' },
  ];
  s.hosts = [
    { name: 'h1', kind: 'dvs', netns: 'n1', underlayAddress: '198.51.100.11' },
    { name: 'h2', kind: 'dvs', netns: 'n2', underlayAddress: '198.51.100.12' },
    { name: 'h3', kind: 'dvs', netns: 'n3', underlayAddress: '198.51.100.13' },
    { name: 'k1', kind: 'kernel', netns: 'k1', underlayAddress: '198.51.100.101' },
  ];
  const vm = (name: string, host: string, vni: number) => ({
    name,
    number: 1,
    netns: name,
    host,
    vni,
    mac: '02:00:00:00:00:01',
    address: '192.0.2.11',
    prefixLength: 24,
    ifname: 'x',
    generation: 0,
  });
  // h3 has no VM in VNI 200: it takes no GRE flood copies.
  s.vms = [
    vm('vm1', 'h1', 100),
    vm('vm2', 'h1', 200),
    vm('vm3', 'h2', 100),
    vm('vm4', 'h2', 200),
    vm('vm5', 'h3', 100),
  ];
  return s;
}

test('expected flood lists: other dvs hosts with a VM in the VNI, kernel hosts for VXLAN only', () => {
  const e = expectedFloodLists(state());
  assert.deepEqual(e.get('h1/100'), ['198.51.100.12', '198.51.100.13', '198.51.100.101']);
  assert.deepEqual(e.get('h1/200'), ['198.51.100.12']);
  assert.deepEqual(e.get('h3/200'), ['198.51.100.11', '198.51.100.12']);
});

test('missingFloodMembers compares with each agent networks/show (addresses, any port)', async () => {
  const s = state();
  const views: Record<string, unknown> = {
    h1: [
      { vni: 100, floodList: ['198.51.100.12:4789', '198.51.100.13:4789', '198.51.100.101:4789'] },
      { vni: 200, floodList: ['198.51.100.12:4754'] },
    ],
    h2: [
      { vni: 100, floodList: ['198.51.100.11:4789', '198.51.100.13:4789'] },
      { vni: 200, floodList: ['198.51.100.11:4754'] },
    ],
    h3: [
      { vni: 100, floodList: ['198.51.100.11:4789', '198.51.100.12:4789', '198.51.100.101:4789'] },
      { vni: 200, floodList: ['198.51.100.11:4754', '198.51.100.12:4754'] },
    ],
  };
  const admin = (host: string) => ({ call: async () => ({ text: '', data: views[host] }) }) as unknown as AdminClient;
  assert.deepEqual(await missingFloodMembers(s, admin), ['h2 VNI 100: 198.51.100.101']);
});
