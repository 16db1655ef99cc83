import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PacketBatch, isNetdevError, openTap, openTapSync } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';

// Opening TAPs: create, adopt, persistence, owner, MTU, link state, and every
// error code, against the real kernel inside a namespace of our own.

let ns: LabNamespace;
let seq = 0;
const uniqueName = (): string => `dvn${process.pid}o${seq++}`;
const INDEX_JS = fileURLToPath(new URL('../src/index.js', import.meta.url));

before(() => {
  ns = new LabNamespace(`dvn${process.pid}e`);
});
after(() => ns.dispose());

test('a created TAP has the MTU asked for, is up, and disappears on close', () => {
  const name = uniqueName();
  const tap = ns.run(() => openTapSync({ name, mtu: 1400 }));
  assert.equal(tap.name, name);
  assert.equal(tap.mtu, 1400);
  assert.equal(tap.existed, false);
  const link = ns.ip('-d', 'link', 'show', name);
  assert.match(link, /mtu 1400/);
  assert.match(link, /<[^>]*\bUP\b/);
  assert.match(link, /tun type tap/);
  tap.close();
  assert.doesNotMatch(ns.ip('link', 'show'), new RegExp(`${name}:`));
});

test('up: false leaves the link down', () => {
  const name = uniqueName();
  const tap = ns.run(() => openTapSync({ name, up: false }));
  assert.doesNotMatch(ns.ip('link', 'show', name), /<[^>]*\bUP\b/);
  tap.close();
});

test('a persistent TAP survives close, is adopted (existed) with its owner, and goes when unpersisted', () => {
  const name = uniqueName();
  ns.run(() => openTapSync({ name, persistent: true, owner: 65534, group: 65534 })).close();
  const link = ns.ip('-d', 'link', 'show', name);
  assert.match(link, /persist on/);
  assert.match(link, /user (65534|nobody) /);
  assert.match(link, /group (65534|nogroup) /);
  const adopted = ns.run(() => openTapSync({ name }));
  assert.equal(adopted.existed, true);
  adopted.close();
  assert.match(ns.ip('link', 'show'), new RegExp(`${name}:`));
  ns.run(() => openTapSync({ name, persistent: false })).close();
  assert.doesNotMatch(ns.ip('link', 'show'), new RegExp(`${name}:`));
});

test('DVS_NAME_TOO_LONG and DVS_NAME_INVALID are caught before any system call', async () => {
  await assert.rejects(openTap({ name: 'dvn-0123456789abc' }), (err) => isNetdevError(err, 'DVS_NAME_TOO_LONG'));
  await assert.rejects(openTap({ name: 'dvn/x' }), (err) => isNetdevError(err, 'DVS_NAME_INVALID'));
  await assert.rejects(openTap({ name: '' }), (err) => isNetdevError(err, 'DVS_NAME_INVALID'));
});

test('DVS_NAME_IN_USE when the name belongs to a device that is not a TAP', () => {
  const name = uniqueName();
  ns.ip('link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}x`);
  assert.throws(
    () => ns.run(() => openTapSync({ name })),
    (err) => isNetdevError(err, 'DVS_NAME_IN_USE') && err.errno === 'EINVAL',
  );
  ns.ip('link', 'del', name);
});

test('DVS_DEVICE_BUSY when another fd holds the TAP', () => {
  const name = uniqueName();
  const first = ns.run(() => openTapSync({ name }));
  try {
    assert.throws(
      () => ns.run(() => openTapSync({ name })),
      (err) => isNetdevError(err, 'DVS_DEVICE_BUSY'),
    );
  } finally {
    first.close();
  }
});

/**
 * Runs openTap in a child process (as `uid`, or under `wrap`) and returns the
 * error code it got. The child loads netdev as root and only then becomes
 * `uid`: started as that user it could not read a checkout under /root (0700).
 */
function codeInChild(options: { uid?: number; wrap?: string[] }): string {
  const drop =
    options.uid === undefined
      ? ''
      : // The addon loads lazily: load it while the checkout is still readable.
        `m.nativeAvailable(); process.setgroups([]); process.setgid(${options.uid}); process.setuid(${options.uid});`;
  const script = `import('${INDEX_JS}').then(async (m) => {
    ${drop}
    try { (await m.openTap({ name: 'dvn${process.pid}z' })).close(); console.log('opened'); }
    catch (err) { console.log(err.code); }
  })`;
  const argv = [process.execPath, '--input-type=module', '-e', script];
  const [cmd, ...args] = [...(options.wrap ?? []), ...argv];
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

test('DVS_PERMISSION without root / CAP_NET_ADMIN', () => {
  assert.equal(codeInChild({ uid: 65534 }), 'DVS_PERMISSION');
});

test('DVS_NO_TUN_DEVICE without /dev/net/tun', () => {
  // A private mount namespace hides /dev/net under an empty tmpfs for the child only.
  const wrap = [
    'unshare',
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount -t tmpfs none /dev/net && exec "$@"',
    'sh',
  ];
  assert.equal(codeInChild({ wrap }), 'DVS_NO_TUN_DEVICE');
});

test('a TAP deleted under us wakes the reader, and read()/write() say DVS_DEVICE_GONE', async () => {
  const name = uniqueName();
  const tap = ns.run(() => openTapSync({ name }));
  const batch = new PacketBatch(4, 2048);
  batch.lengths[0] = 60;
  const woke = new Promise<unknown>((resolve) =>
    tap.onReadable(() => {
      try {
        tap.read(batch, 0);
        resolve(null);
      } catch (err) {
        resolve(err);
      }
      tap.onReadable(null);
    }),
  );
  ns.ip('link', 'del', name);
  assert.ok(isNetdevError(await woke, 'DVS_DEVICE_GONE'));
  assert.throws(
    () => tap.write(batch, [0], 1),
    (err) => isNetdevError(err, 'DVS_DEVICE_GONE'),
  );
  tap.close();
});
