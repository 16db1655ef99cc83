// The lab end to end: two dvs hosts and one kernel-vxlan host (an external
// VTEP registered through the controller), two networks. Every VM reaches
// every VM of its VNI — across dvs agents and the kernel's own vxlan device —
// and none of the other VNI, although every VM has an on-link route to the
// other network's subnet (so only the overlay's isolation stops the ping).
// With the agents' offloads on and off (support/offloads.ts), a lab each.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runPingMatrix, renderPingMatrix, labStatus } from '@dvs/lab';
import { assertOffloadsState, offloadModes, type OffloadsMode } from '../support/offloads.js';
import { useLab } from '../support/use-lab.js';

/** The whole file, with the agents' offloads on or off. */
function pingMatrix(mode: OffloadsMode): void {
  const named = (what: string) => `${what} (offloads ${mode})`;
  const lab = useLab({
    hosts: 2,
    vmsPerHost: 2,
    kernelHosts: 1,
    networks: [
      { vni: 100, encap: 'vxlan' },
      { vni: 200, encap: 'vxlan' },
    ],
    offloads: mode,
  });

  test(named('the lab records its hosts, VMs and running processes'), async () => {
    const st = await labStatus(lab());
    assert.equal(st.phase, 'up');
    assert.deepEqual(
      st.hosts.map((h) => [h.name, h.kind]),
      [
        ['h1', 'dvs'],
        ['h2', 'dvs'],
        ['k1', 'kernel'],
      ],
    );
    assert.equal(st.vms.length, 6);
    assert.ok(
      st.processes.every((p) => p.alive),
      JSON.stringify(st.processes),
    );
    assert.equal(new Set(st.vms.map((v) => v.mac)).size, 6, 'VM MACs are unique');
  });

  test(named('ping matrix: reachable within a VNI (dvs and kernel vxlan alike), isolated across VNIs'), async () => {
    const m = await runPingMatrix(lab());
    const text = renderPingMatrix(lab(), m);
    assert.ok(m.ok, text);
    const vm = (name: string) => lab().vm(name);
    const pair = (a: string, b: string) => m.results.find((r) => r.from === a && r.to === b)!;
    // A kernel-host VM and a dvs VM of the same VNI: interop both ways.
    const kernelVm = lab().state.vms.find((v) => v.host === 'k1' && v.vni === 100)!;
    const dvsVm = lab().state.vms.find((v) => v.host === 'h1' && v.vni === 100)!;
    assert.equal(pair(kernelVm.name, dvsVm.name).reached, true);
    assert.equal(pair(dvsVm.name, kernelVm.name).reached, true);
    // Same host, other VNI: isolated.
    const other = lab().state.vms.find((v) => v.host === 'h1' && v.vni === 200)!;
    assert.equal(vm(other.name).vni, 200);
    assert.equal(pair(dvsVm.name, other.name).reached, false);
    assert.equal(pair(other.name, dvsVm.name).reached, false);
    // The dvs VM's TAP and its host's sockets are in the mode, as the agent says and as the kernel has them.
    const port = (await lab().admin('h1').call('ports/show')).data.find((p) => p.name === dvsVm.ifname);
    assert.ok(port !== undefined, `h1 has port ${dvsVm.ifname}`);
    await assertOffloadsState(mode, { ns: dvsVm.netns, port }, (await lab().admin('h1').call('sockets/show')).data);
  });
}

for (const mode of offloadModes()) describe(`the lab ping matrix (offloads ${mode})`, () => pingMatrix(mode));
