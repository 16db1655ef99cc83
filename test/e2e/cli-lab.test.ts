// Right after `dvs lab up`, every `dvs` view works from the host shell with
// `--lab <id>`: the controller views go through the lab's forwarder socket
// into the underlay namespace, the agent views to the lab hosts' admin
// sockets. Nothing here runs inside a namespace or names an address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomLabId } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';

const dvsBin = join(process.cwd(), 'packages/cli/bin/dvs.js');
const id = randomLabId();

function dvs(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [dvsBin, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, DVS_CONTROLLER: 'http://127.0.0.1:9', DVS_AGENT_SOCKET: '/nonexistent', ...env },
  });
}

before(() => {
  const up = dvs(['lab', 'up', '--id', id, '--hosts', '2', '--vms', '1']);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  assert.match(up.stdout, new RegExp(`dvs --lab ${id} status`), 'lab up says how to reach it');
  const ping = dvs(['lab', 'ping', '--id', id]);
  assert.equal(ping.status, 0, ping.stdout + ping.stderr);
});

after(() => {
  dvs(['lab', 'down', '--id', id]);
});

test('controller views through --lab (which wins over DVS_CONTROLLER): status, hosts, tunnels, fdb', async () => {
  const status = dvs(['--lab', id, 'status', '--json']);
  assert.equal(status.status, 0, status.stdout + status.stderr);
  const s = JSON.parse(status.stdout) as { hosts: { up: number; down: number }; problems: unknown[] };
  assert.deepEqual([s.hosts, s.problems], [{ up: 2, down: 0, stale: 0 }, []]);

  const hosts = dvs(['--lab', id, 'hosts', '--json']);
  assert.equal(hosts.status, 0, hosts.stdout + hosts.stderr);
  const h = JSON.parse(hosts.stdout) as { hosts: { host: string; state: string }[] };
  assert.deepEqual(h.hosts.map((x) => `${x.host}:${x.state}`).sort(), ['h1:up', 'h2:up']);

  // Agents publish tunnel health every few seconds: poll the view until both tunnels are listed up.
  const states = await waitFor(
    'both tunnels up in dvs tunnels',
    () => {
      const r = dvs(['tunnels', '--json', '--lab', id]);
      assert.equal(r.status === 0 || r.status === 1, true, r.stdout + r.stderr);
      const t = JSON.parse(r.stdout) as { tunnels: { host: string; state: string }[] };
      const seen = t.tunnels.map((x) => `${x.host}:${x.state}`).sort();
      return seen.join() === 'h1:up,h2:up' && seen;
    },
    30_000,
    500,
  );
  assert.deepEqual(states, ['h1:up', 'h2:up']);

  // After the ping matrix the controller places each VM's MAC at its host.
  const fdb = dvs(['fdb', '--json'], { DVS_LAB: id });
  assert.equal(fdb.status, 0, fdb.stdout + fdb.stderr);
  const f = JSON.parse(fdb.stdout) as { entries: { host: string | null }[] };
  assert.deepEqual(f.entries.map((e) => e.host).sort(), ['h1', 'h2']);
});

test("writes go through --lab as the lab's admin (its token and CA, over TLS through the forwarder)", () => {
  const create = dvs(['--lab', id, 'networks', 'create', '--vni', '300', '--name', 'lab-write', '--encap', 'gre-udp']);
  assert.equal(create.status, 0, create.stdout + create.stderr);
  const list = dvs(['--lab', id, 'networks', '--json']);
  const networks = (JSON.parse(list.stdout) as { networks: { vni: number; encap: string }[] }).networks;
  assert.deepEqual(
    networks.map((n) => `${n.vni}:${n.encap}`),
    ['100:vxlan', '300:gre-udp'],
  );
});

test('agent views through --lab <id>/<host>: each host shows its own VM port', () => {
  const ports = (host: string) => {
    const r = dvs(['--lab', `${id}/${host}`, 'agent', 'ports', '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    return (JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name);
  };
  const h1 = ports('h1');
  const h2 = ports('h2');
  assert.equal(h1.length, 1);
  assert.equal(h2.length, 1);
  assert.notEqual(h1[0], h2[0]);
  // Without a host, the lab's first dvs host answers; --socket still wins over --lab.
  const first = dvs(['--lab', id, 'agent', 'ports', '--json']);
  assert.deepEqual(
    (JSON.parse(first.stdout) as { name: string }[]).map((p) => p.name),
    h1,
  );
  const explicit = dvs(['--lab', id, 'agent', 'ports', '--socket', '/nonexistent/agent.sock']);
  assert.equal(explicit.status, 1);
  assert.match(explicit.stderr, /\/nonexistent\/agent\.sock/);
});

test('a lab that is not there, or a host it does not have, is said so', () => {
  const unknown = dvs(['--lab', 'zz99', 'status']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /no lab "zz99" is recorded on this machine/);
  const noHost = dvs(['--lab', `${id}/h7`, 'agent', 'ports']);
  assert.equal(noHost.status, 2);
  assert.match(noHost.stderr, /has no dvs host "h7" \(its dvs hosts: h1, h2\)/);
  const bad = dvs(['--lab', 'Not-An-Id', 'status']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /lab id "Not-An-Id" is invalid/);
});
