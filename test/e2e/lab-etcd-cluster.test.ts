// `dvs lab up --etcd-nodes 3`: three etcd members, each in its own namespace
// on the underlay, TLS between peers and to clients (client certificates
// required). The agents and the controller follow the cluster; with its
// leader SIGKILLed the other two keep a quorum: the controller still writes
// (a network created through it reaches every agent), the VMs still reach
// each other, and `dvs audit` is clean.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctlTlsEnv, randomLabId, Lab, labControllerClient, underlayNamespace } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { waitPidExit, waitVmPing } from '../support/lab-vms.js';
import { run } from '../support/run-command.js';
import { runDvs } from '../support/dvs-cli.js';
import { waitForCleanAudit } from '../support/lab-audit.js';

const id = randomLabId();
let lab: Lab | null = null;

const dvs = (...args: string[]) => runDvs(args, {}, { timeoutMs: 240_000 });

before(async () => {
  const up = await dvs('lab', 'up', '--id', id, '--hosts', '2', '--vms', '1', '--etcd-nodes', '3');
  assert.equal(up.code, 0, up.stdout + up.stderr);
  assert.match(up.stdout, /3 members, each in its own namespace, TLS between peers and to clients/);
});

after(async () => {
  lab ??= await Lab.open(id).catch(() => null);
  if (lab) assert.deepEqual(await lab.down(), [], 'teardown left something behind');
});

async function etcdctl(endpoints: string, args: string[], env: Record<string, string>) {
  return run(['ip', 'netns', 'exec', underlayNamespace(id), 'etcdctl', '--endpoints', endpoints, ...args], {
    allowFailure: true,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

test('three etcd members in their own namespaces with TLS; the cluster survives its leader', async () => {
  lab = await Lab.open(id);
  const l = lab;
  const members = l.state.etcd?.members ?? [];
  assert.equal(members.length, 3);
  const procs = l.state.processes.filter((p) => p.role === 'etcd');
  assert.equal(procs.length, 3);
  // Each member runs in its own network namespace.
  const netns = await Promise.all(procs.map((p) => run(['readlink', `/proc/${p.pid}/ns/net`])));
  assert.equal(new Set(netns.map((r) => r.stdout.trim())).size, 3, JSON.stringify(netns.map((r) => r.stdout)));
  const endpoints = l.state.etcd!.endpoints.join(',');
  assert.ok(
    l.state.etcd!.endpoints.every((e) => e.startsWith('https://')),
    endpoints,
  );
  const tls = etcdctlTlsEnv(l.state.etcd!.tls!);
  const list = await etcdctl(endpoints, ['member', 'list', '-w', 'json'], tls);
  assert.equal(list.code, 0, list.stderr);
  const listed = (JSON.parse(list.stdout) as { members: { name: string; peerURLs: string[] }[] }).members;
  assert.deepEqual(listed.map((m) => m.name).sort(), ['etcd-1', 'etcd-2', 'etcd-3']);
  assert.ok(
    listed.every((m) => m.peerURLs.every((u) => u.startsWith('https://'))),
    JSON.stringify(listed),
  );
  // A client without a certificate is refused.
  const anonymous = await etcdctl(endpoints, ['get', 'x', '--dial-timeout', '2s', '--command-timeout', '3s'], {
    ETCDCTL_CACERT: tls.ETCDCTL_CACERT!,
  });
  assert.notEqual(anonymous.code, 0, 'no client certificate, no access');

  const [a, b] = [l.state.vms.find((v) => v.host === 'h1')!, l.state.vms.find((v) => v.host === 'h2')!];
  await waitVmPing(l, a, b, 'over the 3-node cluster');

  // SIGKILL the leader.
  const status = await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json'], tls);
  const statuses = JSON.parse(status.stdout) as {
    Endpoint: string;
    Status: { header: { member_id: number }; leader: number };
  }[];
  const leaderId = statuses[0]!.Status.leader;
  const leaderEndpoint = statuses.find((s) => s.Status.header.member_id === leaderId)!.Endpoint;
  const leader = members.find((m) => leaderEndpoint.includes(m.address))!;
  const proc = procs.find((p) => p.name === leader.name)!;
  const exited = waitPidExit(proc.pid);
  process.kill(proc.pid, 'SIGKILL');
  await exited;

  const client = labControllerClient(l.state);
  await waitFor(
    'the controller writes through the remaining quorum',
    async () => {
      const res = await client.send('POST', '/v1/networks', { vni: 300, name: 'after-leader-loss' });
      return res.status === 201 || res.status === 409 ? true : undefined;
    },
    60_000,
    1000,
  );
  for (const h of ['h1', 'h2']) {
    await waitFor(`${h} has network 300`, async () => {
      const { data } = await l.admin(h).call('networks/show');
      return (data as { vni: number }[]).some((n) => n.vni === 300);
    });
  }
  await waitVmPing(l, a, b, 'after the etcd leader died');
  await waitForCleanAudit(l, 2, 'a clean dvs audit');
});
