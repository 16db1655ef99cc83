import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../src/command-runner.js';
import { isLabError } from '../src/errors.js';
import { listCpioNewc, writeCpioNewc } from '../src/qemu/cpio-newc.js';
import { bzImageVersion, isStaticElf } from '../src/qemu/elf-and-bzimage.js';
import { guestKernelCommandLine, validateGuestConfig } from '../src/qemu/guest-init.js';
import { moduleLoadPlan, moduleName, parseModulesBuiltin, parseModulesDep } from '../src/qemu/kernel-modules.js';

test('writeCpioNewc makes an archive that cpio(1) lists with modes, links and device nodes', async () => {
  const archive = writeCpioNewc([
    { kind: 'dir', path: 'bin' },
    { kind: 'dir', path: 'dev' },
    { kind: 'file', path: '/bin/tool', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { kind: 'file', path: 'odd', data: Buffer.from('abc') }, // 3 bytes: exercises the data padding
    { kind: 'symlink', path: 'bin/sh', target: 'tool' },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
  ]);
  assert.equal(archive.length % 4, 0, 'newc entries are 4-byte aligned');
  const dir = await mkdtemp(join(tmpdir(), 'dvs-cpio-'));
  const file = join(dir, 'test.cpio');
  await writeFile(file, archive);
  const listed = await runCommand(['cpio', '-itv', '--quiet', '-F', file]).finally(() =>
    rm(dir, { recursive: true, force: true }),
  );
  const lines = listed.stdout.trim().split('\n');
  assert.equal(lines.length, 6, listed.stdout);
  assert.match(lines[2], /^-rwxr-xr-x .* bin\/tool$/);
  assert.match(lines[3], /^-rw-r--r-- .* 3 .* odd$/);
  assert.match(lines[4], /^lrwxrwxrwx .* bin\/sh -> tool$/);
  assert.match(lines[5], /^crw------- .* 5,\s+1 .* dev\/console$/);
  assert.equal(listCpioNewc(archive)[3].data.toString(), 'abc');
  assert.deepEqual(
    listCpioNewc(archive).map((e) => [e.name, e.size]),
    [
      ['bin', 0],
      ['dev', 0],
      ['bin/tool', 18],
      ['odd', 3],
      ['bin/sh', 4],
      ['dev/console', 0],
    ],
  );
});

test('writeCpioNewc refuses paths that climb out of the archive', () => {
  assert.throws(
    () => writeCpioNewc([{ kind: 'file', path: '../etc/passwd', data: Buffer.alloc(0) }]),
    /bad entry path/,
  );
  assert.throws(() => writeCpioNewc([{ kind: 'dir', path: '/' }]), /bad entry path/);
});

// A slice of the real modules.dep of linux-image-6.1.0-*-cloud-amd64 (depmod -b).
const MODULES_DEP = `kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/drivers/char/virtio_console.ko.xz: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
`;

test('moduleLoadPlan loads every module once, after all of its dependencies', () => {
  const plan = moduleLoadPlan(['virtio_pci', 'virtio_net', 'virtio-console'], parseModulesDep(MODULES_DEP), new Set());
  const names = plan.load.map(moduleName);
  assert.deepEqual(new Set(names).size, names.length, 'no module twice');
  const dep = parseModulesDep(MODULES_DEP);
  for (const [i, name] of names.entries()) {
    for (const d of dep.depends.get(name) ?? []) assert.ok(names.indexOf(d) < i, `${d} loads before ${name}`);
  }
  assert.deepEqual(names.slice(-3), ['net_failover', 'virtio_net', 'virtio_console']);
  assert.ok(plan.load.includes('kernel/drivers/char/virtio_console.ko.xz'), 'compressed modules keep their path');
});

test('moduleLoadPlan skips built-in modules and names a missing one with its chain', () => {
  const dep = parseModulesDep('kernel/a.ko: kernel/b.ko\n');
  const builtin = parseModulesBuiltin('kernel/drivers/virtio/virtio_pci.ko\n');
  assert.deepEqual(moduleLoadPlan(['virtio_pci'], dep, builtin), { load: [], builtin: ['virtio_pci'] });
  assert.throws(() => moduleLoadPlan(['a'], dep, builtin), /kernel module b \(needed by a\) is neither/);
});

test('the guest kernel command line carries name, address, gateway and MTU; bad values name the field', () => {
  assert.equal(
    guestKernelCommandLine({ name: 'vm1', ip: '192.0.2.11/24', gateway: '192.0.2.1', mtu: 1450 }),
    'console=ttyS0 quiet panic=-1 dvs.name=vm1 dvs.ip=192.0.2.11/24 dvs.gw=192.0.2.1 dvs.mtu=1450',
  );
  assert.equal(guestKernelCommandLine({ name: 'vm2' }), 'console=ttyS0 quiet panic=-1 dvs.name=vm2');
  const cases: [object, RegExp][] = [
    [{ name: 'vm 1' }, /guest name "vm 1" is invalid/],
    [{ name: 'vm1', ip: '192.0.2.11' }, /guest ip "192.0.2.11" is invalid: give an IPv4 address with its prefix/],
    [{ name: 'vm1', ip: '192.0.2.300/24' }, /guest ip/],
    [{ name: 'vm1', gateway: 'router' }, /guest gateway "router"/],
    [{ name: 'vm1', mtu: 100 }, /guest mtu 100 is invalid: use an integer from 576 to 9000/],
  ];
  for (const [config, message] of cases) {
    assert.throws(
      () => validateGuestConfig(config as never),
      (e: unknown) => isLabError(e, 'DVS_LAB_BAD_SPEC') && message.test(e.message),
    );
  }
});

test('isStaticElf tells busybox-static from a dynamically linked program', async () => {
  assert.equal(isStaticElf(await readFile('/bin/busybox')), true);
  assert.equal(isStaticElf(await readFile(process.execPath)), false);
  assert.equal(isStaticElf(Buffer.from('#!/bin/sh\n')), false);
});

test('bzImageVersion reads the version string the setup header points at', () => {
  const image = Buffer.alloc(0x400);
  image.write('HdrS', 0x202, 'ascii');
  image.writeUInt16LE(0x300 - 0x200, 0x20e);
  image.write('6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\0', 0x300, 'ascii');
  assert.equal(bzImageVersion(image), '6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP');
  assert.equal(bzImageVersion(Buffer.alloc(0x400)), null, 'no HdrS signature');
});
