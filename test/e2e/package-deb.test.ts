// The .deb as an operator meets it: `npm run package`'s build script makes it,
// dpkg installs it on this machine, the installed dvs, dvs-agent and
// dvs-controller answer from /usr/bin, a 2-host lab runs on the installed
// programs, and dpkg -r / dpkg -P take everything away again (a changed
// conffile survives -r, not -P). The machine is left as it was, also when a
// step fails; one package test runs at a time (system-package.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomLabId } from '@dvs/lab';
import { run } from '../support/run-command.js';
import {
  claimPackage,
  dpkg,
  dpkgStatus,
  MachineLock,
  markInstalledByTest,
  purgeIfInstalled,
  purgeIfInstalledSync,
} from '../support/system-package.js';

const repo = process.cwd();
const versionScript = join(repo, 'scripts/package/version.mjs');
const version = spawnSync(process.execPath, [versionScript], { encoding: 'utf8' }).stdout.trim();
const debVersion = spawnSync(process.execPath, [versionScript, '--deb'], { encoding: 'utf8' }).stdout.trim();
const labId = randomLabId();
const outDir = mkdtempSync(join(tmpdir(), 'dvs-deb-test-'));
let deb = '';
let lock: MachineLock | null = null;

/** An installed program, run from / with a plain environment: nothing may come from the checkout. */
function installed(file: string, args: string[]) {
  return spawnSync(file, args, {
    cwd: '/',
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
  });
}

before(async () => {
  lock = await MachineLock.take();
  process.once('exit', () => purgeIfInstalledSync('dvs'));
  await claimPackage('dvs');
  assert.equal(spawnSync('getent', ['passwd', 'dvs']).status, 2, 'a dvs user exists before the package is installed');
  const built = await run([process.execPath, 'scripts/package/build-deb.mjs', '--out', outDir], { timeoutMs: 300_000 });
  deb = join(repo, built.stdout.trim());
});

after(async () => {
  // The checkout's lab takes the lab down from its state file, whatever became of the package.
  spawnSync(process.execPath, [join(repo, 'packages/lab/dist/src/lab-main.js'), 'down', '--id', labId], {
    timeout: 120_000,
  });
  await purgeIfInstalled('dvs');
  rmSync(outDir, { recursive: true, force: true });
  lock?.release();
});

test('the package says what it is: name, version, arch, runtime dependency, conffiles', async () => {
  assert.match(version, /^\d+\.\d+\.\d+/);
  assert.equal(deb.endsWith(`/dvs_${debVersion}_amd64.deb`), true, deb);
  const field = async (name: string) => (await run(['dpkg-deb', '-f', deb, name])).stdout.trim();
  assert.equal(await field('Package'), 'dvs');
  assert.equal(await field('Version'), debVersion);
  assert.match(await field('Depends'), /^nodejs \(>= 20\), adduser, libc6 \(>= [\d.]+\)/);
  const info = await run(['dpkg-deb', '--info', deb, 'conffiles']);
  assert.equal(info.stdout, '/etc/dvs/agent.yaml\n/etc/dvs/controller.env\n');
});

test('dpkg -i installs it: programs on the PATH, the dvs system user, units at the installed paths', async () => {
  markInstalledByTest();
  const r = await dpkg(['--install', deb]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(dpkgStatus('dvs'), 'install ok installed');
  // Every installed file matches the package's md5sums.
  const verify = await run(['dpkg', '--verify', 'dvs'], { allowFailure: true });
  assert.deepEqual([verify.code, verify.stdout], [0, ''], verify.stderr);
  for (const [bin, target] of [
    ['dvs', 'cli/bin/dvs.js'],
    ['dvs-agent', 'agent/bin/dvs-agent.js'],
    ['dvs-controller', 'controller/bin/dvs-controller.js'],
  ]) {
    assert.equal(lstatSync(`/usr/bin/${bin}`).isSymbolicLink(), true);
    assert.equal(readlinkSync(`/usr/bin/${bin}`), `../lib/dvs/packages/${target}`);
  }
  assert.equal(existsSync('/usr/lib/dvs/packages/netdev/build/Release/dvs_netdev.node'), true);
  const user = spawnSync('getent', ['passwd', 'dvs'], { encoding: 'utf8' }).stdout.split(':');
  assert.equal(user[0], 'dvs');
  assert.ok(Number(user[2]) < 1000, `dvs is a system user (uid ${user[2]})`);
  assert.match(user[6], /nologin/);
  for (const unit of ['dvs-agent', 'dvs-controller']) {
    const text = readFileSync(`/usr/lib/systemd/system/${unit}.service`, 'utf8');
    const execStart = /^ExecStart=(\S+) (\S+)/m.exec(text);
    assert.deepEqual(execStart?.slice(1), ['/usr/bin/node', `/usr/lib/dvs/packages/${unit.slice(4)}/bin/${unit}.js`]);
    const verify = installed('systemd-analyze', ['verify', `/usr/lib/systemd/system/${unit}.service`]);
    assert.equal(verify.status, 0, verify.stderr);
  }
});

test('the installed programs answer: --version agrees with the package, the shipped config passes --check', () => {
  assert.equal(installed('dvs', ['--version']).stdout, `${version}\n`);
  assert.equal(installed('dvs-agent', ['--version']).stdout, `dvs-agent ${version}\n`);
  assert.equal(installed('dvs-controller', ['--version']).stdout, `dvs-controller ${version}\n`);
  const check = installed('dvs-agent', ['--config', '/etc/dvs/agent.yaml', '--check']);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /^configuration valid: host host-a/m);
  assert.match(check.stdout, /^native addon: loads$/m);
  const bad = installed('dvs-agent', ['--host', 'h1', '--check']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /vtep: is missing/);
});

test('a 2-host lab runs on the installed programs, and dvs --lab reaches it', () => {
  const up = installed('dvs', ['lab', 'up', '--id', labId, '--hosts', '2', '--vms', '1']);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  const status = installed('dvs', ['lab', 'status', '--id', labId, '--json']);
  assert.equal(status.status, 0, status.stdout + status.stderr);
  const processes = (JSON.parse(status.stdout) as { processes: { role: string; pid: number }[] }).processes;
  const commandOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 2).join(' ');
  assert.deepEqual(
    processes.filter((p) => p.role === 'agent' || p.role === 'controller').map((p) => commandOf(p.pid)),
    // The programs each package declares (package.json bin), as the systemd units run them.
    [
      '/usr/bin/node /usr/lib/dvs/packages/controller/bin/dvs-controller.js',
      '/usr/bin/node /usr/lib/dvs/packages/agent/bin/dvs-agent.js',
      '/usr/bin/node /usr/lib/dvs/packages/agent/bin/dvs-agent.js',
    ],
  );
  const ping = installed('dvs', ['lab', 'ping', '--id', labId]);
  assert.equal(ping.status, 0, ping.stdout + ping.stderr);
  const hosts = installed('dvs', ['--lab', labId, 'hosts', '--json']);
  assert.equal(hosts.status, 0, hosts.stdout + hosts.stderr);
  const names = (JSON.parse(hosts.stdout) as { hosts: { host: string; state: string }[] }).hosts;
  assert.deepEqual(names.map((h) => `${h.host}:${h.state}`).sort(), ['h1:up', 'h2:up']);
  const down = installed('dvs', ['lab', 'down', '--id', labId]);
  assert.equal(down.status, 0, down.stdout + down.stderr);
});

test('dpkg -r removes the programs and keeps the changed conffile; dpkg -P removes the rest and the user', async () => {
  appendFileSync('/etc/dvs/agent.yaml', '# changed by the operator\n');
  const removed = await dpkg(['--remove', 'dvs']);
  assert.equal(removed.code, 0, removed.stdout + removed.stderr);
  assert.equal(dpkgStatus('dvs'), 'deinstall ok config-files');
  for (const gone of [
    '/usr/lib/dvs',
    '/usr/bin/dvs',
    '/usr/bin/dvs-agent',
    '/usr/lib/systemd/system/dvs-agent.service',
  ]) {
    assert.equal(existsSync(gone), false, `${gone} is still there after dpkg -r`);
  }
  assert.match(readFileSync('/etc/dvs/agent.yaml', 'utf8'), /# changed by the operator\n$/);

  const purged = await dpkg(['--purge', 'dvs']);
  assert.equal(purged.code, 0, purged.stdout + purged.stderr);
  assert.equal(dpkgStatus('dvs'), null);
  assert.equal(existsSync('/etc/dvs'), false, '/etc/dvs is still there after dpkg -P');
  assert.equal(spawnSync('getent', ['passwd', 'dvs']).status, 2, 'the dvs user is still there after dpkg -P');
  assert.equal(spawnSync('getent', ['group', 'dvs']).status, 2, 'the dvs group is still there after dpkg -P');
});
