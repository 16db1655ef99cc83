// `dvs lab down` works from the state file alone: the process that built the
// lab is SIGKILLed in the middle of the build (no finally, no signal handler
// runs), and `down` still removes every namespace, device and process it
// recorded. And the lab refuses to run without root, saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadLabState, randomLabId, type LabState } from '@dvs/lab';

const labMain = fileURLToPath(new URL('../../../packages/lab/dist/src/lab-main.js', import.meta.url));
const labCli = fileURLToPath(new URL('../../../packages/lab/dist/src/lab-cli.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function namespacesOf(id: string): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`dvl-${id}-`));
}

/** Running (a zombie waiting for its new parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Pids of running processes whose command line contains `text`. */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) && alive(Number(entry)))
        out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('down removes a lab whose builder was SIGKILLed mid-build', async () => {
  const id = randomLabId();
  const builder = spawn(
    process.execPath,
    [labMain, 'up', '--id', id, '--hosts', '2', '--vms', '1', '--kernel-hosts', '1', '--no-control-plane'],
    { stdio: 'ignore' },
  );
  let state: LabState | null = null;
  try {
    // Kill it once it has started agents but (most likely) before it finished.
    for (let i = 0; i < 600; i++) {
      state = await loadLabState(id).catch(() => null);
      if (state && state.processes.some((p) => p.role === 'agent')) break;
      await sleep(10);
    }
    assert.ok(state, 'the builder never recorded an agent');
    builder.kill('SIGKILL');
    await new Promise((r) => builder.once('close', r));
    state = await loadLabState(id);
    assert.ok(state, 'state file gone with the builder');
    assert.ok(namespacesOf(id).length > 0, 'nothing was built before the kill');
    const pids = state.processes.map((p) => p.pid);
    assert.ok(pids.some(alive), 'recorded processes should still run after the builder died');

    const down = spawnSync(process.execPath, [labMain, 'down', '--id', id], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(down.status, 0, down.stderr);
  } finally {
    if (builder.exitCode === null) builder.kill('SIGKILL');
    // Belt and braces for a failed assertion above: never leave a lab behind.
    spawnSync(process.execPath, [labMain, 'down', '--id', id], { encoding: 'utf8', timeout: 60_000 });
  }
  assert.deepEqual(namespacesOf(id), []);
  for (const p of state!.processes) assert.equal(alive(p.pid), false, `${p.role} ${p.name} (pid ${p.pid}) survived`);
  // Also processes the builder started but had not recorded yet when it died.
  assert.deepEqual(processesMentioning(`/dvs-lab/${id}/`), [], 'a process of the lab survived');
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  assert.equal(links.includes(`dvl${id}`), false, 'a lab device is left in the root namespace');
  assert.equal(await loadLabState(id), null, 'state directory left behind');
});

test('up refuses to run without root and says so', () => {
  // The lab's program as lab-main.js runs it, but loaded as root and then run as
  // uid/gid 65534: a process that starts as 65534 could not even read a checkout
  // under /root (mode 0700), and the test would measure where the repository
  // lives instead of the lab.
  const script = `
    const { createLabCommand } = await import(${JSON.stringify(pathToFileURL(labCli).href)});
    process.setgroups([]);
    process.setgid(65534);
    process.setuid(65534);
    await createLabCommand('dvs-lab').parseAsync(['node', 'dvs-lab', 'up', '--id', 'nrt0']);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, DVS_LAB_DIR: '/tmp/dvs-lab-nonroot-test' },
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /needs root/);
  assert.deepEqual(namespacesOf('nrt0'), []);
});
