// `dvs lab` as an operator types it (the lab's own program, lab-main.js):
// up, status --json, exec, ping --json, link down/up, a refused migration
// (exit 2 with the reason), down — and exit codes that mean something.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomLabId, type LabStatus, type PingMatrix } from '@dvs/lab';

const labMain = fileURLToPath(new URL('../../../packages/lab/dist/src/lab-main.js', import.meta.url));
const id = randomLabId();

function lab(...args: string[]) {
  return spawnSync(process.execPath, [labMain, ...args], { encoding: 'utf8', timeout: 120_000 });
}

before(() => {
  const r = lab('up', '--id', id, '--hosts', '1', '--kernel-hosts', '1', '--vms', '1', '--no-control-plane');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`lab ${id} is up`));
});

after(() => {
  lab('down', '--id', id);
});

test('status --json describes hosts, VMs and live processes', () => {
  const r = lab('status', '--id', id, '--json');
  assert.equal(r.status, 0, r.stderr);
  const st = JSON.parse(r.stdout) as LabStatus;
  assert.equal(st.id, id);
  assert.deepEqual(
    st.hosts.map((h) => `${h.name}:${h.kind}:${h.agent ?? '-'}`),
    ['h1:dvs:running', 'k1:kernel:-'],
  );
  assert.deepEqual(
    st.vms.map((v) => `${v.name}@${v.host}`),
    ['vm1@h1', 'vm2@k1'],
  );
});

test('exec runs a command in a VM and passes its exit code through', () => {
  const ok = lab('exec', '--id', id, 'vm1', '--', 'ping', '-c', '2', '-i', '0.2', '-W', '1', '192.0.2.12');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = lab('exec', '--id', id, 'vm1', '--', 'false');
  assert.equal(bad.status, 1);
});

test('ping --json: the dvs VM and the kernel-host VM reach each other', () => {
  const r = lab('ping', '--id', id, '--json');
  assert.equal(r.status, 0, r.stdout);
  const m = JSON.parse(r.stdout) as PingMatrix;
  assert.equal(m.ok, true);
  assert.equal(m.results.length, 2);
});

test("link down cuts a host's underlay (ping matrix exits 1), link up restores it", () => {
  assert.equal(lab('link', '--id', id, 'h1', 'down').status, 0);
  const cut = lab('ping', '--id', id);
  assert.equal(cut.status, 1, 'the matrix should report the broken path');
  assert.match(cut.stdout, /FAIL/);
  assert.equal(lab('link', '--id', id, 'h1', 'up').status, 0);
  const back = lab('ping', '--id', id);
  assert.equal(back.status, 0, back.stdout);
});

test('usage errors exit 2 and say why; unknown labs exit 1', () => {
  const toKernel = lab('migrate', '--id', id, 'vm1', 'k1');
  assert.equal(toKernel.status, 2);
  assert.match(toKernel.stderr, /both hosts must be dvs hosts/);
  const noHost = lab('link', '--id', id, 'h9', 'down');
  assert.equal(noHost.status, 2);
  assert.match(noHost.stderr, /no host "h9"/);
  const noLab = lab('status', '--id', 'zz99');
  assert.equal(noLab.status, 1);
  assert.match(noLab.stderr, /no lab "zz99"/);
});
