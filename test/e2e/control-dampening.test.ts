// Dampening with real agents in the namespace lab: a VM live-migrated back
// and forth six times within a minute is frozen by the controller as a
// duplicate (EVPN's 5 moves in 180 s) and shown so, while the data plane
// keeps reaching it; clearing it through the API re-decides its location.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labControllerClient, migrateVm, type ControllerClient } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { vmPings } from '../support/lab-vms.js';
import { useLab } from '../support/use-lab.js';

const VNI = 100;
const lab = useLab({ hosts: 2, vmsPerHost: 1, kernelHosts: 0, networks: [{ vni: VNI, encap: 'vxlan' }] });

interface Entry {
  mac: string;
  host: string | null;
  seq: number;
  moves: number;
  duplicate: boolean;
  reason: string;
}

function controller(): ControllerClient {
  assert.ok(lab().state.controller?.socketPath, 'the lab has a controller');
  return labControllerClient(lab().state);
}

async function entryOf(mac: string): Promise<Entry | undefined> {
  const res = await controller().send('GET', `/v1/fdb?vni=${VNI}&mac=${mac}`);
  return (res.body as { entries: Entry[] }).entries[0];
}

test('a VM bounced 6 times in a minute is frozen as duplicate, still reachable, and released by clear', async () => {
  const l = lab();
  const moving = l.state.vms.find((v) => v.host === 'h1')!;
  const other = l.state.vms.find((v) => v.host === 'h2')!;
  const mac = moving.mac.toLowerCase();
  await waitFor('both VMs reach each other', () => vmPings(lab(), other, moving), 15_000, 100);
  await waitFor(
    'controller knows the VM at h1',
    async () => ((await entryOf(mac))?.host === 'h1' ? true : undefined),
    15_000,
    100,
  );

  for (let i = 1; i <= 6; i++) {
    const to = l.vm(moving.name).host === 'h1' ? 'h2' : 'h1';
    await migrateVm(l, moving.name, to, { holdMs: 100, timeoutMs: 3000 });
    if (i < 6) {
      const e = await waitFor(
        `move ${i} in the table`,
        async () => {
          const x = await entryOf(mac);
          return x?.host === to ? x : undefined;
        },
        15_000,
        100,
      );
      assert.equal(e.duplicate, false, `move ${i}`);
      assert.equal(e.moves, i);
    }
  }
  const frozen = await waitFor(
    'duplicate',
    async () => {
      const x = await entryOf(mac);
      return x?.duplicate ? x : undefined;
    },
    15_000,
    100,
  );
  assert.match(frozen.reason, /^duplicate: 6 moves in 180 s \(limit 5\), frozen at h[12]$/);
  // The old host let go of the MAC (its port is gone), so the frozen entry ends where the VM is, still duplicate.
  const settled = await waitFor(
    'duplicate at the VM host',
    async () => {
      const x = await entryOf(mac);
      return x?.duplicate && x.host === l.vm(moving.name).host ? x : undefined;
    },
    15_000,
    100,
  );
  assert.ok(settled.moves > 5);
  const status = await controller().send('GET', '/v1/status');
  const problems = (status.body as { problems: { kind: string; mac?: string }[] }).problems;
  assert.ok(
    problems.some((p) => p.kind === 'duplicate-mac' && p.mac === mac),
    JSON.stringify(problems),
  );

  // The data plane followed the VM's own announcements: it stays reachable while frozen.
  await waitFor('reachable while frozen', () => vmPings(lab(), other, moving), 15_000, 100);

  const cleared = await controller().send('POST', `/v1/fdb/${VNI}/${mac}/clear`);
  assert.equal(cleared.status, 200);
  const released = await waitFor(
    'released to the VM host',
    async () => {
      const x = await entryOf(mac);
      return x !== undefined && !x.duplicate && x.host === l.vm(moving.name).host ? x : undefined;
    },
    15_000,
    100,
  );
  assert.equal(released.moves, 0);
  assert.ok(await vmPings(lab(), other, moving));
});
