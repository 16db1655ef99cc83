// Every optional method of the control surface (ControlSurface: a provider
// may or may not implement it) must be routed by Datapaths to the provider
// that serves the network. The list below is checked by the compiler against
// the interface: a new optional method that is not listed here fails the
// build, and the test then calls each one on a network of each provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Datapaths } from '../src/dpif/datapaths.js';
import { UserspaceProvider } from '../src/dpif/userspace-provider.js';
import type { DatapathProvider } from '../src/dpif/provider.js';
import type { ControlSurface } from '../src/datapath/control-surface.js';

/** The keys of T whose property is optional. */
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
type OptionalSurfaceMethod = OptionalKeys<ControlSurface>;

/** Every optional method, each with the VNI-taking call Datapaths must route (missing key: compile error). */
const OPTIONAL_METHODS: { [K in OptionalSurfaceMethod]-?: (s: ControlSurface, vni: number) => unknown } = {
  tableDigest: (s, vni) => s.tableDigest?.(vni),
  controlEntries: (s, vni) => s.controlEntries?.(vni),
};

/** A userspace pipeline standing in for one provider, recording which optional methods were called for which VNI. */
function recording(kind: 'userspace' | 'kernel', calls: string[]): DatapathProvider {
  const p = new UserspaceProvider({ agingTimer: false });
  const stand = Object.create(p) as DatapathProvider & Record<string, unknown>;
  Object.defineProperty(stand, 'kind', { value: kind });
  for (const name of Object.keys(OPTIONAL_METHODS))
    stand[name] = (vni: number) => {
      calls.push(`${kind}:${name}:${vni}`);
      return null;
    };
  return stand;
}

test('Datapaths routes every optional control-surface method to the provider serving the VNI', () => {
  const calls: string[] = [];
  const dp = new Datapaths({
    userspace: recording('userspace', calls),
    kernel: recording('kernel', calls),
    vxlanOwner: { provider: 'kernel', reason: 'agent datapath: kernel' },
    networkChoice: () => 'auto',
  });
  const applied = dp.apply([
    { kind: 'network:set', network: { vni: 100, encap: 'vxlan', mtu: 1450 } },
    { kind: 'network:set', network: { vni: 200, encap: 'gre-udp', mtu: 1450 } },
  ]);
  assert.equal(applied.applied, 2);
  assert.equal(dp.placementOf(100)?.provider, 'kernel');
  assert.equal(dp.placementOf(200)?.provider, 'userspace');
  const names = Object.keys(OPTIONAL_METHODS) as OptionalSurfaceMethod[];
  assert.ok(names.length >= 2, 'the list names the optional methods');
  for (const name of names) {
    assert.equal(typeof (dp as unknown as Record<string, unknown>)[name], 'function', `Datapaths has ${name}`);
    calls.length = 0;
    OPTIONAL_METHODS[name](dp, 100);
    OPTIONAL_METHODS[name](dp, 200);
    assert.deepEqual(calls, [`kernel:${name}:100`, `userspace:${name}:200`], `${name} goes to the serving provider`);
  }
});
