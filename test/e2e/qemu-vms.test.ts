/**
 * Real QEMU guests (TCG on this machine) on a Linux bridge in one namespace:
 * QEMU creates and holds each TAP (`-netdev tap,ifname=…`), the TAPs are
 * bridge ports. Two guests ping each other over their virtio NICs; then VM1
 * is live-migrated into a second QEMU on the same bridge under a continuous
 * ping from VM2 (inside the guest) and from the namespace, and QEMU's own
 * RARP self-announce is seen on the destination TAP.
 *
 * This proves the QEMU foundation (image, console, QMP, migration); dvs
 * agents in the path come with the attach port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ContinuousPing,
  GuestContinuousPing,
  migrateQemu,
  pingFromGuest,
  QemuVm,
  type GuestConsole,
  type QemuVmOptions,
} from '@dvs/lab';
import { NetnsLab } from '../support/netns-lab.js';
import { tcpdump } from '../support/capture.js';
import { waitFor } from '@dvs/test-support';

const lab = new NetnsLab('dvq');
const VM1 = { ip: '192.0.2.1', mac: '02:00:5e:10:00:01' };
const VM2 = { ip: '192.0.2.2', mac: '02:00:5e:10:00:02' };
const MTU = 1400;
let ns: string;
let bridge: string;
let vm1: QemuVm;
let vm2: QemuVm;
let console1: GuestConsole;
let console2: GuestConsole;
const vms: QemuVm[] = [];
const pings: ContinuousPing[] = [];

function vmOptions(name: string, tap: string, spec: typeof VM1): QemuVmOptions {
  return { name, netns: ns, tap, mac: spec.mac, bridge, guest: { ip: `${spec.ip}/24`, mtu: MTU } };
}

async function start(options: QemuVmOptions): Promise<QemuVm> {
  const vm = await QemuVm.start(options);
  vms.push(vm);
  return vm;
}

async function bridgePortOf(mac: string): Promise<string | undefined> {
  const fdb = await lab.exec(ns, ['bridge', 'fdb', 'show', 'br', bridge]);
  return fdb.stdout
    .split('\n')
    .find((l) => l.startsWith(`${mac} dev `) && !l.includes('permanent'))
    ?.split(' ')[2];
}

before(async () => {
  ns = await lab.netns('q');
  bridge = lab.name('br');
  await lab.exec(ns, ['ip', 'link', 'add', bridge, 'type', 'bridge']);
  await lab.exec(ns, ['ip', 'addr', 'add', '192.0.2.254/24', 'dev', bridge]);
  await lab.exec(ns, ['ip', 'link', 'set', bridge, 'up']);
  [vm1, vm2] = await Promise.all([
    start(vmOptions('vm1', lab.name('t1'), VM1)),
    start(vmOptions('vm2', lab.name('t2'), VM2)),
  ]);
  [console1, console2] = await Promise.all([vm1.waitBooted(), vm2.waitBooted()]);
});

after(async () => {
  await Promise.all(pings.map((p) => p.stop()));
  await Promise.all(vms.map((vm) => vm.kill().catch(() => undefined)));
  await lab.cleanup();
});

test('two QEMU guests on a bridge ping each other over virtio-net; the console answers', async () => {
  // The TAPs are QEMU's (tun devices it created), enslaved to the bridge.
  const tap = await lab.exec(ns, ['ip', '-d', 'link', 'show', lab.name('t1')]);
  assert.match(tap.stdout, /tun type tap/);
  assert.match(tap.stdout, new RegExp(`master ${bridge}`));

  // The guest took its configuration from the kernel command line and QEMU.
  const facts = await console1.run(
    'hostname; cat /sys/class/net/eth0/address /sys/class/net/eth0/mtu; ip -o -4 addr show eth0',
  );
  const [hostname, mac, mtu, addr] = facts.trim().split('\n');
  assert.equal(hostname, 'vm1');
  assert.equal(mac, VM1.mac);
  assert.equal(Number(mtu), MTU);
  assert.match(addr, /inet 192\.0\.2\.1\/24/);
  assert.deepEqual(await console2.exec('exit 7'), { output: '', status: 7 });

  const oneToTwo = await pingFromGuest(console1, VM2.ip, { count: 3 });
  const twoToOne = await pingFromGuest(console2, VM1.ip, { count: 3 });
  assert.equal(oneToTwo.received, 3, `vm1 -> vm2: ${JSON.stringify(oneToTwo)}`);
  assert.equal(twoToOne.received, 3, `vm2 -> vm1: ${JSON.stringify(twoToOne)}`);
  assert.equal(oneToTwo.duplicates + twoToOne.duplicates, 0);
  // The bridge learned each MAC on the TAP of its QEMU: the frames crossed those TAPs.
  assert.equal(await bridgePortOf(VM1.mac), lab.name('t1'));
  assert.equal(await bridgePortOf(VM2.mac), lab.name('t2'));
});

test('a live migration of vm1 under a continuous ping: completed, same guest, source gone, RARP from the destination', async () => {
  const destTap = lab.name('t1b');
  const dest = await start({ ...vmOptions('vm1', destTap, VM1), incoming: true });
  assert.equal(await dest.status(), 'inmigrate');
  // A mark in the guest's memory: only the same guest, moved, can show it afterwards.
  const token = `token-${process.pid}-${Date.now()}`;
  await console1.run(`echo ${token} > /tmp/token`);

  const rarp = await tcpdump(lab, ns, destTap, ['-Q', 'in', 'ether', 'proto', '0x8035'], 'rarp');
  const guestPing = await GuestContinuousPing.start(console2, VM1.ip, { intervalMs: 10 });
  const hostPing = new ContinuousPing(ns, VM1.ip, 10);
  pings.push(hostPing);
  await hostPing.waitForReplies(50, 20_000);
  const before = await guestPing.sample();
  assert.ok(before.received > 0, 'the guest ping runs before the migration');

  const result = await migrateQemu(vm1, dest);
  assert.ok(Number.isFinite(result.downtimeMs) && result.downtimeMs >= 0, `downtime ${result.downtimeMs}`);
  assert.ok(result.totalTimeMs > 0 && result.totalTimeMs >= result.downtimeMs, `total ${result.totalTimeMs}`);
  assert.ok(result.transferredBytes > 0);
  assert.equal(await dest.status(), 'running');

  // The source QEMU quit and its TAP went with it.
  assert.equal(result.sourceQuit, true);
  assert.equal(await vm1.isRunning(), false);
  assert.equal(await vm1.tapExists(), false);
  assert.equal((await lab.exec(ns, ['ip', 'link', 'show', lab.name('t1')], { allowFailure: true })).code !== 0, true);

  // The same guest runs on: its console answers, its memory came along, it answers pings.
  // dest.exec: on a timeout its error carries the guest kernel's last lines.
  assert.deepEqual(await dest.exec(`cat /tmp/token; hostname`), { output: `${token}\nvm1\n`, status: 0 });
  const after = await pingFromGuest(await dest.console(), VM2.ip, { count: 3 });
  assert.equal(after.received, 3, `migrated vm1 -> vm2: ${JSON.stringify(after)}`);
  await waitFor('host ping replies after the resume', () =>
    hostPing.replies.some((r) => r.atMs > result.destinationResumedAtMs),
  );
  const figures = await guestPing.stop();
  assert.ok(figures.received > before.received, `vm2's ping got answers after the move: ${JSON.stringify(figures)}`);
  assert.equal(figures.duplicates, 0);
  await hostPing.stop();
  assert.equal(hostPing.duplicateTimes.length, 0);

  // QEMU's own self-announce: RARP from vm1's MAC, written by the destination QEMU into its TAP.
  const captured = await rarp.stop();
  assert.ok(
    captured.split('\n').some((l) => l.includes(`${VM1.mac} > ff:ff:ff:ff:ff:ff`) && /Reverse Request/.test(l)),
    `RARP from ${VM1.mac} on ${destTap}:\n${captured}`,
  );
  assert.equal(await bridgePortOf(VM1.mac), destTap, 'the bridge moved vm1 to the destination TAP');
  vm1 = dest;
});

test('a guest killed with SIGKILL is gone at once, and so is its TAP', async () => {
  await vm2.kill();
  assert.equal(await vm2.isRunning(), false);
  assert.equal(await vm2.tapExists(), false);
});
