import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUdpNetwork } from '@dvs/netdev/testing';
import { AdminClient } from '@dvs/admin-client';
import { Agent, validateConfig } from '../src/index.js';
import { placeNetwork, vxlanOwner } from '../src/dpif/datapath-choice.js';
import { FakeKernel } from './fake-devices.js';

const KERNEL = { available: true } as const;
const NO_KERNEL = { available: false, reason: 'no rtnetlink' } as const;
const vx = (datapath: 'auto' | 'kernel' | 'userspace', vni = 100) => ({ vni, encap: 'vxlan' as const, datapath });

test('the host VXLAN owner: the agent setting, auto by the kernel and the configured networks', () => {
  assert.deepEqual(vxlanOwner('userspace', KERNEL, []), { provider: 'userspace', reason: 'agent datapath: userspace' });
  assert.deepEqual(vxlanOwner('kernel', KERNEL, []), { provider: 'kernel', reason: 'agent datapath: kernel' });
  assert.match((vxlanOwner('kernel', NO_KERNEL, []) as { problem: string }).problem, /cannot run: no rtnetlink/);
  assert.deepEqual(vxlanOwner('auto', KERNEL, [vx('auto')]), {
    provider: 'kernel',
    reason: 'auto: the kernel carries VXLAN',
  });
  const noKernel = vxlanOwner('auto', NO_KERNEL, [vx('auto')]);
  assert.equal('provider' in noKernel && noKernel.provider, 'userspace');
  assert.match((noKernel as { reason: string }).reason, /kernel provider unavailable \(no rtnetlink\)/);
  const asked = vxlanOwner('auto', KERNEL, [vx('auto'), vx('userspace', 200)]);
  assert.equal('provider' in asked && asked.provider, 'userspace');
  assert.match((asked as { reason: string }).reason, /200 asks for userspace/);
});

test('a network goes to the host VXLAN owner; GRE-in-UDP always userspace; the other provider is refused', () => {
  const kernel = { provider: 'kernel' as const, reason: 'agent datapath: kernel' };
  assert.deepEqual(placeNetwork(vx('auto'), kernel), {
    ok: true,
    provider: 'kernel',
    reason: 'agent datapath: kernel',
  });
  const gre = placeNetwork({ vni: 200, encap: 'gre-udp', datapath: 'auto' }, kernel);
  assert.ok(gre.ok && gre.provider === 'userspace');
  assert.match(gre.ok ? gre.reason : '', /no FOU/);
  const greKernel = placeNetwork({ vni: 200, encap: 'gre-udp', datapath: 'kernel' }, kernel);
  assert.ok(!greKernel.ok && /no FOU/.test(greKernel.problem) && /auto or userspace/.test(greKernel.fix));
  const other = placeNetwork(vx('userspace'), kernel);
  assert.ok(!other.ok && /one UDP port, one owner/.test(other.problem));
});

test('config: datapath fields are checked, a config that breaks the one-owner rule names the field and the fix', () => {
  const base = { host: 'h', vtep: { address: '198.51.100.1' } };
  assert.equal(validateConfig(base).datapath, 'userspace');
  assert.equal(validateConfig({ ...base, datapath: 'auto' }).datapath, 'auto');
  const fails = (raw: object, field: string, fix: RegExp): void =>
    assert.throws(
      () => validateConfig(raw),
      (err: { code?: string; field?: string; fix?: string }) =>
        err.code === 'DVS_CONFIG_INVALID' && err.field === field && fix.test(err.fix ?? ''),
    );
  fails({ ...base, datapath: 'fast' }, 'datapath', /kernel, userspace, auto/);
  fails(
    { ...base, datapath: 'kernel', networks: [{ vni: 100, datapath: 'userspace' }] },
    'networks[0].datapath',
    /auto or kernel, or the agent's datapath to userspace/,
  );
  fails(
    { ...base, networks: [{ vni: 100, datapath: 'kernel' }] },
    'networks[0].datapath',
    /agent's datapath to kernel/,
  );
  fails(
    { ...base, datapath: 'auto', networks: [{ vni: 7, encap: 'gre-udp', datapath: 'kernel' }] },
    'networks[0].datapath',
    /auto or userspace/,
  );
  fails({ ...base, vtep: { address: '198.51.100.1', probePort: 4789 } }, 'vtep.probePort', /port of their own/);
  // auto with a network that asks for userspace is fine: the host's VXLAN goes to userspace.
  assert.equal(
    validateConfig({ ...base, datapath: 'auto', networks: [{ vni: 100, datapath: 'userspace' }] }).networks[0]!
      .datapath,
    'userspace',
  );
});

test('datapath: kernel where there is none fails start with the reason, nothing opened', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-dpif-'));
  try {
    const kernel = new FakeKernel(new FakeUdpNetwork());
    const config = validateConfig({
      host: 'h',
      vtep: { address: '198.51.100.1' },
      datapath: 'kernel',
      adminSocket: join(dir, 'agent.sock'),
      stateFile: null,
      networks: [{ vni: 100 }],
      ports: [{ name: 'vm1', vni: 100 }],
    });
    const agent = new Agent({ config, devices: kernel });
    await assert.rejects(agent.start(), { code: 'DVS_DATAPATH_UNAVAILABLE', message: /kernel provider cannot run/ });
    assert.equal(kernel.taps.size, 0, 'no TAP opened');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('auto without a kernel datapath: userspace, and networks/show says which provider serves each network and why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-dpif-'));
  const kernel = new FakeKernel(new FakeUdpNetwork());
  const config = validateConfig({
    host: 'h',
    vtep: { address: '198.51.100.1' },
    datapath: 'auto',
    adminSocket: join(dir, 'agent.sock'),
    stateFile: null,
    networks: [{ vni: 100 }, { vni: 200, encap: 'gre-udp' }],
  });
  const agent = new Agent({ config, devices: kernel, dataPath: { agingTimer: false } });
  await agent.start();
  const client = new AdminClient(join(dir, 'agent.sock'));
  try {
    const { data, text } = await client.call('networks/show');
    const rows = data as { vni: number; provider: string; providerReason: string }[];
    assert.deepEqual(
      rows.map((n) => [n.vni, n.provider]),
      [
        [100, 'userspace'],
        [200, 'userspace'],
      ],
    );
    assert.match(
      rows[0]!.providerReason,
      /auto: kernel provider unavailable \(these devices have no kernel datapath\)/,
    );
    assert.match(rows[1]!.providerReason, /gre-udp: this kernel has no FOU/);
    assert.match(text, /VNI 100 on userspace: auto: kernel provider unavailable/);
  } finally {
    client.close();
    await agent.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
