/**
 * The guest image as the VM tests use it: built from Debian packages on first
 * use (apt-get download of the cloud kernel, ~20 s), then taken from the
 * cache. Checks what is inside, not how it was made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { listCpioNewc } from '../src/qemu/cpio-newc.js';
import { bzImageVersion, isStaticElf } from '../src/qemu/elf-and-bzimage.js';
import { ensureGuestImage } from '../src/qemu/guest-image.js';
import { GUEST_INIT } from '../src/qemu/guest-init.js';

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;

test('the guest image holds the cloud kernel and an initramfs with busybox, virtio_net and its dependencies', async () => {
  const image = await ensureGuestImage();
  assert.match(image.kernelPackage, /^linux-image-\d.*-cloud-amd64$/);
  assert.equal(bzImageVersion(await readFile(image.kernel))?.split(' ')[0], image.kernelRelease);

  const entries = listCpioNewc(gunzipSync(await readFile(image.initrd)));
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal((byName.get('dev/console')!.mode & S_IFMT) === S_IFCHR, true, '/dev/console is a device node');
  assert.ok((byName.get('init')!.mode & 0o111) !== 0, '/init is executable');
  for (const m of ['virtio_net.ko', 'net_failover.ko', 'failover.ko', 'virtio.ko', 'virtio_ring.ko', 'virtio_pci.ko']) {
    assert.ok(byName.has(`lib/modules/${m}`), `${m} is in the initramfs`);
  }

  const fileData = (name: string): Buffer => byName.get(name)!.data;
  assert.equal(fileData('init').toString(), GUEST_INIT);
  assert.ok(isStaticElf(fileData('bin/busybox')), 'busybox is the static one');
  const virtioNet = fileData('lib/modules/virtio_net.ko');
  assert.ok(
    virtioNet.includes(Buffer.from(`vermagic=${image.kernelRelease} `)),
    'virtio_net was built for this kernel',
  );
  const order = fileData('etc/dvs-modules').toString().trim().split('\n');
  assert.deepEqual(order, image.modules);
  for (const [before, after] of [
    ['virtio_ring.ko', 'virtio.ko'],
    ['failover.ko', 'net_failover.ko'],
    ['net_failover.ko', 'virtio_net.ko'],
    ['virtio.ko', 'virtio_net.ko'],
  ])
    assert.ok(order.indexOf(before) < order.indexOf(after), `${before} loads before ${after}`);

  const size = (await stat(image.kernel)).size + (await stat(image.initrd)).size;
  assert.ok(size < 40 * 1024 * 1024, `the cached image stays small (${size} bytes)`);
});

test('a second ensureGuestImage() takes the cached image without rebuilding it', async () => {
  const first = await ensureGuestImage();
  const stampBefore = await stat(join(first.dir, 'stamp.json'));
  const kernelBefore = await stat(first.kernel);
  const progress: string[] = [];
  const second = await ensureGuestImage({ onProgress: (l) => progress.push(l) });
  assert.deepEqual(second, first);
  assert.deepEqual(progress, [], 'no build step ran');
  assert.equal((await stat(first.kernel)).mtimeMs, kernelBefore.mtimeMs);
  assert.equal((await stat(join(first.dir, 'stamp.json'))).mtimeMs, stampBefore.mtimeMs);
});
