// deploy/ artefacts exercised for real: the QEMU/libvirt hook scripts
// (dvs-ifup / dvs-ifdown) attach a TAP that another process holds, as QEMU
// holds its VM's TAP when it runs the script, to a running agent through its
// admin socket and release it again, and the systemd units parse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, devicePrefix } from '@dvs/lab';
import { TapHolder } from '@dvs/netdev/testing';
import { waitFor } from '@dvs/test-support';
import type { AgentPortView } from '@dvs/wire';

const qemuDir = join(process.cwd(), 'deploy/qemu');
let lab: Lab | null = null;
let tap = '';
let qemu: TapHolder | null = null;
/** Real QEMU processes this file started (killed by pid in after()). */
const qemus: ChildProcess[] = [];

before(async () => {
  lab = await Lab.up({
    spec: { hosts: 1, vmsPerHost: 0, kernelHosts: 0, networks: [{ vni: 100, encap: 'vxlan' }], controlPlane: false },
  });
  // What QEMU has done when it runs `script=`: created the TAP and holds it.
  tap = `${devicePrefix(lab.id)}q0`;
  qemu = await TapHolder.start(lab.host('h1').netns, tap);
});

after(async () => {
  await qemu?.kill();
  for (const q of qemus) if (q.exitCode === null && q.signalCode === null) q.kill('SIGKILL');
  rmSync(qmpPath(`${devicePrefix(lab!.id)}q1`), { force: true });
  if (lab) assert.deepEqual(await lab.down(), []);
});

function hook(script: string, env: Record<string, string>) {
  return spawnSync('ip', ['netns', 'exec', lab!.host('h1').netns, join(qemuDir, script), tap], {
    encoding: 'utf8',
    env: { ...process.env, DVS_AGENT_SOCKET: lab!.host('h1').adminSocket!, ...env },
    timeout: 20_000,
  });
}

type PortRow = AgentPortView;

async function portViews(): Promise<PortRow[]> {
  return (await lab!.admin('h1').call('ports/show')).data;
}

async function waitPort(
  name: string,
  what: string,
  match: (p: PortRow | undefined) => boolean,
): Promise<PortRow | undefined> {
  try {
    return await waitFor(
      `port ${name}: ${what}`,
      async () => {
        const p = (await portViews()).find((x) => x.name === name);
        return match(p) ? { p } : undefined;
      },
      30_000,
      50,
    ).then((found) => found.p);
  } catch {
    assert.fail(`port ${name}: ${what}: ${JSON.stringify((await portViews()).find((x) => x.name === name))}`);
  }
}

/**
 * Real QEMU (TCG, paused before the guest runs: -S, no disk) with a virtio
 * NIC on a TAP it creates and holds, and the hooks as its script= and
 * downscript=, as deploy/qemu/README.md shows.
 */
const qmpPath = (ifname: string) => join(tmpdir(), `${ifname}.qmp`);

/**
 * Resolves once QEMU answers a QMP command, which its main loop dispatches:
 * QEMU's SIGTERM handling is in place by then. (The greeting alone is not
 * enough: QMP's I/O runs in a thread of its own, which greets earlier.)
 */
async function qemuReady(ifname: string): Promise<void> {
  const answers = (): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const c = connect(qmpPath(ifname));
      let text = '';
      c.on('data', (d) => {
        text += d.toString();
        if (text.includes('"QMP"') && !text.includes('"return"')) {
          c.write('{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n');
          text = text.slice(text.indexOf('"QMP"') + 5);
        }
        if (text.includes('"status"')) {
          c.destroy();
          resolve(true);
        }
      });
      c.once('error', () => resolve(false));
      c.once('close', () => resolve(false));
    });
  // QEMU under TCG on a loaded machine can take a while to get there.
  await waitFor(`QEMU for ${ifname} to answer on QMP`, answers, 60_000, 50);
}

function startQemu(ifname: string): ChildProcess {
  const q = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab!.host('h1').netns,
      'qemu-system-x86_64',
      '-machine',
      'pc,accel=tcg',
      '-nodefaults',
      '-display',
      'none',
      '-S',
      '-m',
      '64',
      '-netdev',
      `tap,id=n0,ifname=${ifname},script=${join(qemuDir, 'dvs-ifup')},downscript=${join(qemuDir, 'dvs-ifdown')}`,
      '-device',
      'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56',
      '-qmp',
      `unix:${qmpPath(ifname)},server=on,wait=off`,
    ],
    { stdio: 'ignore', env: { ...process.env, DVS_VNI: '100', DVS_AGENT_SOCKET: lab!.host('h1').adminSocket! } },
  );
  qemus.push(q);
  return q;
}

function exited(q: ChildProcess): Promise<void> {
  return q.exitCode !== null || q.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => q.once('exit', () => r()));
}

async function ports(): Promise<string[]> {
  return (await portViews()).map((p) => p.name);
}

test('dvs-ifup without a VNI says how to give one and changes nothing', async () => {
  const r = hook('dvs-ifup', {});
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no VNI for .*DVS_VNI/);
  assert.ok(!(await ports()).includes(tap));
});

test('dvs-ifup attaches the TAP QEMU holds into VNI 100; dvs-ifdown releases it and leaves the TAP', async () => {
  const up = hook('dvs-ifup', { DVS_VNI: '100' });
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /added port .*\(100, attach, device tap, up, mtu \d+\)/);
  const port = (await portViews()).find((p) => p.name === tap);
  assert.deepEqual([port?.kind, port?.state], ['attach', 'up']);

  const down = hook('dvs-ifdown', {});
  assert.equal(down.status, 0, down.stderr);
  assert.ok(!(await ports()).includes(tap));
  const link = spawnSync('ip', ['-n', lab!.host('h1').netns, 'link', 'show', tap], { encoding: 'utf8' });
  assert.equal(link.status, 0, "the TAP is QEMU's: it stays in place");

  // Releasing a port the agent does not know is not an error (QEMU may call it twice).
  assert.equal(hook('dvs-ifdown', {}).status, 0);
});

test('real QEMU runs dvs-ifup: its TAP is attached; SIGKILLed: the port goes gone; started again: up; stopped: dvs-ifdown releases it', async () => {
  const ifname = `${devicePrefix(lab!.id)}q1`;
  const first = startQemu(ifname);
  const up = await waitPort(ifname, 'attached by the hook', (p) => p?.state === 'up');
  assert.deepEqual([up?.kind, up?.deviceKind], ['attach', 'tap']);
  first.kill('SIGKILL'); // no downscript: the VM just vanishes, its TAP with it
  await exited(first);
  await waitPort(ifname, 'gone with QEMU', (p) => p?.state === 'gone');
  const second = startQemu(ifname); // the hook asks for the same port again: no conflict
  const back = await waitPort(ifname, 'attached again', (p) => p?.state === 'up');
  assert.equal(back?.reattached, 1);
  // A SIGTERM before QEMU's main loop runs kills it without its downscript: wait for the loop.
  await qemuReady(ifname);
  second.kill('SIGTERM'); // a clean stop: QEMU runs its downscript
  await exited(second);
  await waitPort(ifname, 'released by dvs-ifdown', (p) => p === undefined);
});

test("dvs-libvirt-hook releases a stopped domain's dvs ports (its ethernet interfaces with dvs-ifup), and nothing else", async () => {
  assert.equal(hook('dvs-ifup', { DVS_VNI: '100' }).status, 0);
  const domain = [
    '<domain type="kvm"><name>vm1</name><devices>',
    "<interface type='ethernet'>",
    "  <mac address='52:54:00:12:34:56'/>",
    `  <target dev='${tap}' managed='no'/>`,
    `  <script path='${join(qemuDir, 'dvs-ifup')}'/>`,
    "  <model type='virtio'/>",
    '</interface>',
    "<interface type='network'><source network='default'/><target dev='vnet9'/></interface>",
    '</devices></domain>',
  ].join('\n');
  const stateDir = await mkdtemp(join(tmpdir(), 'dvs-libvirt-hook-'));
  const libvirt = (operation: string, input = domain) =>
    spawnSync(
      'ip',
      ['netns', 'exec', lab!.host('h1').netns, join(qemuDir, 'dvs-libvirt-hook'), 'vm1', operation, 'end', '-'],
      {
        encoding: 'utf8',
        input,
        env: { ...process.env, DVS_AGENT_SOCKET: lab!.host('h1').adminSocket!, DVS_LIBVIRT_STATE_DIR: stateDir },
        timeout: 20_000,
      },
    );
  try {
    assert.equal(libvirt('prepare').status, 0);
    assert.equal(libvirt('started').status, 0);
    assert.ok((await ports()).includes(tap), 'only release unplugs');
    // libvirt 9 passes the live XML without the TAP's name on `stopped` and `release`: the hook wrote it down.
    const unnamed = domain.replace(`<target dev='${tap}' managed='no'/>`, "<target managed='yes'/>");
    assert.equal(libvirt('stopped', unnamed).status, 0);
    assert.ok((await ports()).includes(tap), 'stopped does not unplug yet');
    const released = libvirt('release', unnamed);
    assert.equal(released.status, 0, released.stderr);
    assert.ok(!(await ports()).includes(tap));
    assert.deepEqual(await readdir(stateDir), [], 'the released domain is forgotten');
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('the systemd units parse (systemd-analyze verify)', () => {
  const which = spawnSync('sh', ['-c', 'command -v systemd-analyze']);
  assert.equal(
    which.status,
    0,
    'systemd-analyze is missing: scripts/bootstrap.sh installs it (Debian package systemd)',
  );
  for (const unit of ['dvs-agent.service', 'dvs-controller.service']) {
    const r = spawnSync('systemd-analyze', ['verify', join(process.cwd(), 'deploy/systemd', unit)], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
  }
});
