// The per-network flow export switch in the userspace data path: a network
// whose spec turns sFlow or IPFIX off gives that exporter nothing (no sample,
// no cached flow, no port counters for sFlow) while another network on the
// same data path still does; a network:set turns it back on at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FrameDevice } from '@dvs/netdev';
import { parseMac, type NetworkFlowExport } from '@dvs/wire';
import { DataPath, FlowCache, FlowSampler, FlowTap } from '../src/datapath/index.js';
import { udpFrame } from './pipeline-rig.js';

const REMOTE = parseMac('52:54:00:00:be:ef') as number;
const SENDER = parseMac('52:54:00:00:00:01') as number;

function device(name: string): FrameDevice {
  return { name, mtu: 1500, read: () => 0, write: (_b, _s, n) => n, onReadable() {}, close() {} };
}

/** VNIs 100 (port a) and 200 (port b), each with REMOTE behind a VTEP; sFlow 1-in-1 and IPFIX on. */
function twoNetworks(flowExport200: NetworkFlowExport): { dp: DataPath; tap: FlowTap } {
  const dp = new DataPath({ agingTimer: false, now: () => 1.7e12, trustControlPlane: true });
  for (const vni of [100, 200]) {
    const result = dp.apply([
      {
        kind: 'network:set',
        network: { vni, encap: 'vxlan', mtu: 1450, ...(vni === 200 ? { flowExport: flowExport200 } : {}) },
      },
      { kind: 'fdb:set', vni, mac: REMOTE, vtep: { address: '198.51.100.2', port: 4789 }, seq: 0 },
    ]);
    assert.deepEqual(result.rejected, []);
  }
  dp.addPort({ name: 'a', mode: 'access', vni: 100 }, device('a'));
  dp.addPort({ name: 'b', mode: 'access', vni: 200 }, device('b'));
  const tap = new FlowTap();
  tap.cache = new FlowCache(64);
  tap.sampler = new FlowSampler(256, 128);
  tap.sampler.rate = 1;
  dp.setFlowTap(tap);
  return { dp, tap };
}

/** Frames sampled and packets cached, by VNI. */
function exported(tap: FlowTap): { samples: Record<number, number>; cached: Record<number, number> } {
  const sampler = tap.sampler as FlowSampler;
  const cache = tap.cache as FlowCache;
  const samples: Record<number, number> = {};
  const cached: Record<number, number> = {};
  for (let i = sampler.tail; i < sampler.head; i++) {
    const vni = sampler.vni[i % sampler.capacity];
    samples[vni] = (samples[vni] ?? 0) + 1;
  }
  for (const k of cache.entries()) cached[cache.vni[k]] = (cached[cache.vni[k]] ?? 0) + cache.packets[k];
  return { samples, cached };
}

function send(dp: DataPath, frames: number): void {
  for (let i = 0; i < frames; i++) {
    dp.injectFrame('a', udpFrame(REMOTE, SENDER));
    dp.injectFrame('b', udpFrame(REMOTE, SENDER));
  }
}

describe('per-network flow export', () => {
  it('a network with both off is neither sampled nor cached, nor are its ports counted; the other network is', () => {
    const { dp, tap } = twoNetworks({ sflow: false, ipfix: false });
    send(dp, 10);
    assert.deepEqual(exported(tap), { samples: { 100: 10 }, cached: { 100: 10 } });
    assert.equal(dp.sflowCountsPort('a'), true);
    assert.equal(dp.sflowCountsPort('b'), false, 'no sFlow counter samples for a port whose networks are all off');
    const views = Object.fromEntries(dp.networkViews().map((n) => [n.vni, n.flowExport]));
    assert.deepEqual(views, { 100: { sflow: true, ipfix: true }, 200: { sflow: false, ipfix: false } });
  });

  it('each exporter is switched alone: sFlow off still caches the flow, IPFIX off still samples', () => {
    const sflowOff = twoNetworks({ sflow: false, ipfix: true });
    send(sflowOff.dp, 4);
    assert.deepEqual(exported(sflowOff.tap), { samples: { 100: 4 }, cached: { 100: 4, 200: 4 } });
    const ipfixOff = twoNetworks({ sflow: true, ipfix: false });
    send(ipfixOff.dp, 4);
    assert.deepEqual(exported(ipfixOff.tap), { samples: { 100: 4, 200: 4 }, cached: { 100: 4 } });
    assert.equal(ipfixOff.dp.sflowCountsPort('b'), true);
  });

  it('a network:set without flowExport turns export back on for the next frame', () => {
    const { dp, tap } = twoNetworks({ sflow: false, ipfix: false });
    send(dp, 2);
    dp.apply([{ kind: 'network:set', network: { vni: 200, encap: 'vxlan', mtu: 1450 } }]);
    send(dp, 3);
    assert.deepEqual(exported(tap), { samples: { 100: 5, 200: 3 }, cached: { 100: 5, 200: 3 } });
    assert.equal(dp.sflowCountsPort('b'), true);
  });
});
