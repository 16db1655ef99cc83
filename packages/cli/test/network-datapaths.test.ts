import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostView, NetworkView } from '@dvs/wire';
import { networkDatapaths, renderNetworkDatapaths } from '../src/render/network-datapaths.js';
import { blue, flood, hosts } from './cluster-fixtures.js';

const kernelHost: HostView = { ...hosts[0]!, datapath: { provider: 'kernel', reason: 'agent datapath: kernel' } };
const userspaceHost: HostView = {
  ...hosts[1]!,
  datapath: { provider: 'userspace', reason: 'auto: kernel provider unavailable (no rtnetlink)' },
};
const fleet = [kernelHost, userspaceHost, hosts[2]!];

function rows(network: NetworkView) {
  return networkDatapaths(network, flood[0]!, fleet).map((r) => [r.host, r.provider, r.reason, r.mismatch]);
}

test('networks show: each host of the network, its provider and why, by the one rule; a host not in the VNI is left out', () => {
  assert.deepEqual(rows(blue), [
    ['host-a', 'kernel', 'agent datapath: kernel', false],
    ['host-b', 'userspace', 'auto: kernel provider unavailable (no rtnetlink)', false],
  ]);
  // The network asks for userspace: host-b honours it, host-a cannot (one UDP port, one owner) and says the fix.
  const asked = rows({ ...blue, datapath: 'userspace' });
  assert.deepEqual(asked[1], ['host-b', 'userspace', 'network datapath: userspace', false]);
  assert.equal(asked[0]![1], 'kernel');
  assert.equal(asked[0]![3], true);
  assert.match(
    String(asked[0]![2]),
    /asks for the userspace datapath, but this host's VXLAN port belongs to the kernel/,
  );
  // GRE-in-UDP: userspace on every host, the kernel here has no FOU.
  for (const r of rows({ ...blue, encap: 'gre-udp' })) {
    assert.equal(r[1], 'userspace');
    assert.match(String(r[2]), /gre-udp: this kernel has no FOU/);
  }
  const text = renderNetworkDatapaths(
    { ...blue, datapath: 'userspace' },
    networkDatapaths({ ...blue, datapath: 'userspace' }, flood[0]!, fleet),
    false,
  );
  assert.match(text, /^datapath: userspace \(asked\)/);
  assert.match(text, /host-a\s+kernel \(!\)\s+none \(kernel: no flow export\)\s+network 100 asks/);
  assert.match(text, /host-b\s+userspace\s+sflow,ipfix\s+network datapath: userspace/);
  assert.match(renderNetworkDatapaths(blue, [], false), /no host has a port in this VNI yet/);
});

test('networks show: what each host exports of the network, nothing where the kernel serves it', () => {
  const quiet: NetworkView = { ...blue, flowExport: { sflow: false, ipfix: true } };
  const exports = networkDatapaths(quiet, flood[0]!, fleet).map((r) => [r.host, r.provider, r.flowExport]);
  assert.deepEqual(exports, [
    ['host-a', 'kernel', { sflow: false, ipfix: false }],
    ['host-b', 'userspace', { sflow: false, ipfix: true }],
  ]);
  const text = renderNetworkDatapaths(quiet, networkDatapaths(quiet, flood[0]!, fleet), false);
  assert.match(text, /host-b\s+userspace\s+ipfix\s/);
});
