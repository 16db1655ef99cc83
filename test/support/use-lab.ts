import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Lab, type LabSpec } from '@dvs/lab';

/**
 * Three dvs hosts with two VMs each, VNI 100 over VXLAN and VNI 200 over
 * GRE-in-UDP: the lab several e2e files start from, each spreading in what
 * its own lab has more (`{ ...THREE_HOSTS_VXLAN_AND_GRE, datapath: 'kernel' }`).
 */
export const THREE_HOSTS_VXLAN_AND_GRE: LabSpec = {
  hosts: 3,
  vmsPerHost: 2,
  kernelHosts: 0,
  networks: [
    { vni: 100, encap: 'vxlan' },
    { vni: 200, encap: 'gre-udp' },
  ],
};

/**
 * Brings a namespace lab of `spec` up before the tests of the file (or of
 * the describe block it is called in) and down after them, asserting the
 * teardown left nothing behind. `afterUp` sets up more on the lab once it is
 * up, in the same hook (a file's own top-level `before` may run alongside
 * this one, not after it); `beforeDown` first stops what the tests started
 * beside the lab. The getter gives the lab to the tests.
 */
export function useLab(
  spec: LabSpec,
  options: { afterUp?: (lab: Lab) => Promise<void> | void; beforeDown?: () => Promise<void> } = {},
): () => Lab {
  let lab: Lab | null = null;
  before(async () => {
    lab = await Lab.up({ spec });
    await options.afterUp?.(lab);
  });
  after(async () => {
    await options.beforeDown?.();
    if (lab) assert.deepEqual(await lab.down(), [], 'teardown left something behind');
  });
  return () => {
    assert.ok(lab, 'the lab is up');
    return lab;
  };
}
