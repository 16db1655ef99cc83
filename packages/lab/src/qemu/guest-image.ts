/**
 * The guest image: a Debian cloud kernel and a busybox initramfs with
 * virtio-net, built from Debian packages only and cached in a build folder.
 *
 *  1. Resolve `linux-image-cloud-amd64` to the versioned kernel package
 *     (apt-cache; `apt-get update` once when the package lists lack it).
 *  2. `apt-get download` it, unpack with `dpkg-deb -x`, run `depmod -b` on the
 *     unpacked tree (the package ships no modules.dep).
 *  3. Initramfs: the static busybox (busybox-static), the modules of
 *     GUEST_MODULES and their dependencies in load order (decompressed when the
 *     kernel ships .ko.xz/.ko.zst), /init (guest-init.ts), gzip.
 *  4. Keep `vmlinuz`, `initrd.gz` and `stamp.json` (~15 MB); delete the rest.
 *
 * The stamp hashes every input (kernel package and version, busybox binary,
 * /init text, module list, recipe version): the image is rebuilt only when
 * one of them changes. While apt's package lists are unchanged since the
 * last check, the kernel package is not resolved again (apt-cache takes
 * seconds). Offline with a built image, the cached one is used.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { runCommand } from '../command-runner.js';
import { LabError } from '../errors.js';
import { REPO_ROOT } from '../programs.js';
import { writeCpioNewc, type CpioEntry } from './cpio-newc.js';
import { bzImageVersion, isStaticElf } from './elf-and-bzimage.js';
import { GUEST_INIT, GUEST_MODULE_LIST, GUEST_MODULES } from './guest-init.js';
import { moduleLoadPlan, parseModulesBuiltin, parseModulesDep } from './kernel-modules.js';

/** Bump when the way the image is put together changes (forces a rebuild). */
const RECIPE_VERSION = 1;
const KERNEL_META_PACKAGE = 'linux-image-cloud-amd64';
const BUSYBOX = '/bin/busybox';

export interface GuestImage {
  /** The bzImage (QEMU -kernel). */
  kernel: string;
  /** The gzip'd newc initramfs (QEMU -initrd). */
  initrd: string;
  /** `uname -r` of the guest kernel ("6.1.0-57-cloud-amd64"). */
  kernelRelease: string;
  /** The Debian package and version the kernel came from. */
  kernelPackage: string;
  kernelPackageVersion: string;
  /** Kernel module files packed into the initramfs, in load order. */
  modules: string[];
  /** The folder holding the image. */
  dir: string;
}

export interface GuestImageOptions {
  /** Build folder. Default: $DVS_GUEST_DIR, else build/guest at the repository root. */
  dir?: string;
  /** Rebuild even when the stamp matches. */
  force?: boolean;
  /** Progress lines (default: written to stderr with a "[guest] " prefix). */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

interface Stamp extends Omit<GuestImage, 'kernel' | 'initrd' | 'dir'> {
  /** Hash of every input; a different hash means a rebuild. */
  inputs: string;
  /** Hash of the inputs that are not the kernel package (busybox, /init, modules, recipe). */
  localInputs: string;
  /** aptListsFingerprint() when the kernel package was resolved. */
  aptLists: string;
}

export function defaultGuestDir(): string {
  return process.env.DVS_GUEST_DIR ?? join(REPO_ROOT, 'build/guest');
}

/** The kernel package the meta package points at: one apt-cache call (~3 s without apt's binary cache). */
async function aptCacheResolve(signal?: AbortSignal): Promise<{ pkg: string; version: string } | null> {
  const r = await runCommand(['apt-cache', 'show', '--no-all-versions', KERNEL_META_PACKAGE], {
    allowFailure: true,
    signal,
  });
  const m = /^Depends:.*?(linux-image-[^\s,(]+)\s*\(=\s*([^)\s]+)\)/m.exec(r.stdout);
  return r.code === 0 && m !== null ? { pkg: m[1], version: m[2] } : null;
}

/**
 * A fingerprint of apt's package lists (names, sizes, mtimes): while it is
 * unchanged, the meta package resolves as it did at the last build, and the
 * apt-cache call is skipped.
 */
async function aptListsFingerprint(): Promise<string> {
  const dir = '/var/lib/apt/lists';
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.includes('Packages')).sort();
  const parts = await Promise.all(
    names.map(async (n) => {
      const st = await stat(join(dir, n)).catch(() => null);
      return `${n}:${st?.size ?? 0}:${st?.mtimeMs ?? 0}`;
    }),
  );
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

function aptOptions(): string[] {
  // apt drops privileges to _apt for downloads; our work folder is root's.
  return process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
}

async function decompressedModule(path: string, signal?: AbortSignal): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFile(path);
  if (path.endsWith('.gz')) return gunzipSync(await readFile(path));
  // xz -dk and zstd -d keep the compressed file and write the module beside it
  // (inside the unpacked package, which is deleted after the build).
  const tool = path.endsWith('.xz') ? ['xz', '-dkf'] : ['zstd', '-dqf'];
  await runCommand([...tool, path], { signal, timeoutMs: 60_000 });
  return readFile(path.replace(/\.(xz|zst)$/, ''));
}

function hashInputs(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

async function writeStamp(path: string, stamp: Stamp): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(stamp, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
}

/**
 * Returns the guest image, building it first when it is missing or its inputs
 * changed. Throws LabError DVS_LAB_TOOL_MISSING (apt-get, dpkg-deb, depmod,
 * busybox-static missing) or DVS_LAB_COMMAND_FAILED (a step failed; the
 * message names it).
 */
export async function ensureGuestImage(options: GuestImageOptions = {}): Promise<GuestImage> {
  const dir = options.dir ?? defaultGuestDir();
  const progress = options.onProgress ?? ((line: string) => process.stderr.write(`[guest] ${line}\n`));
  const signal = options.signal;
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.gz');
  const stampPath = join(dir, 'stamp.json');
  const cached = await readFile(stampPath, 'utf8')
    .then((t) => JSON.parse(t) as Stamp)
    .catch(() => null);
  const haveCached = cached !== null && existsSync(kernel) && existsSync(initrd);
  const fromStamp = (s: Stamp): GuestImage => ({ ...s, kernel, initrd, dir });

  if (!existsSync(BUSYBOX))
    throw new LabError(
      'DVS_LAB_TOOL_MISSING',
      `${BUSYBOX} is missing: install busybox-static (scripts/bootstrap.sh does)`,
    );
  const busybox = await readFile(BUSYBOX);
  if (!isStaticElf(busybox))
    throw new LabError(
      'DVS_LAB_TOOL_MISSING',
      `${BUSYBOX} is dynamically linked (the busybox package); the guest needs busybox-static: apt-get install busybox-static`,
    );

  const localInputs = hashInputs({
    recipe: RECIPE_VERSION,
    busybox: createHash('sha256').update(busybox).digest('hex'),
    init: GUEST_INIT,
    modules: GUEST_MODULES,
  });
  const aptLists = await aptListsFingerprint();
  if (haveCached && options.force !== true && cached.localInputs === localInputs && cached.aptLists === aptLists)
    return fromStamp(cached);

  let resolved = await aptCacheResolve(signal);
  if (resolved === null && haveCached && cached.localInputs === localInputs) {
    progress(`package lists do not resolve ${KERNEL_META_PACKAGE}; using the cached image (${cached.kernelRelease})`);
    return fromStamp(cached);
  }
  if (resolved === null) {
    progress(`${KERNEL_META_PACKAGE} is not in the package lists: apt-get update (once)`);
    await runCommand(['apt-get', 'update'], { signal, timeoutMs: 300_000, allowFailure: true });
    resolved = await aptCacheResolve(signal);
    if (resolved === null)
      throw new LabError(
        'DVS_LAB_COMMAND_FAILED',
        `cannot resolve ${KERNEL_META_PACKAGE} to a kernel package even after apt-get update: check /etc/apt/sources.list`,
      );
  }
  const inputs = hashInputs({ kernel: resolved, localInputs });
  if (haveCached && cached.inputs === inputs && options.force !== true) {
    // Same kernel under new package lists: remember them, skip apt-cache next time.
    await writeStamp(stampPath, { ...cached, aptLists: await aptListsFingerprint() });
    return fromStamp(cached);
  }

  progress(`building the guest image in ${dir} (${resolved.pkg} ${resolved.version})`);
  await mkdir(dir, { recursive: true });
  const work = join(dir, `work-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const built = await buildInto(work, dir, resolved, busybox, progress, signal);
    const stamp: Stamp = { ...built, inputs, localInputs, aptLists: await aptListsFingerprint() };
    await writeStamp(stampPath, stamp);
    return fromStamp(stamp);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function buildInto(
  work: string,
  dir: string,
  resolved: { pkg: string; version: string },
  busybox: Buffer,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<Omit<Stamp, 'inputs' | 'localInputs' | 'aptLists'>> {
  const download = ['apt-get', ...aptOptions(), 'download', `${resolved.pkg}=${resolved.version}`];
  progress(`apt-get download ${resolved.pkg}=${resolved.version}`);
  const got = await runCommand(download, { cwd: work, signal, timeoutMs: 600_000, allowFailure: true });
  if (got.code !== 0) {
    progress('apt-get download failed; refreshing the package lists once (apt-get update)');
    await runCommand(['apt-get', 'update'], { signal, timeoutMs: 300_000, allowFailure: true });
    await runCommand(download, { cwd: work, signal, timeoutMs: 600_000 });
  }
  const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
  if (deb === undefined) throw new LabError('DVS_LAB_COMMAND_FAILED', `apt-get download left no .deb in ${work}`);

  progress(`unpacking ${deb} (dpkg-deb -x)`);
  const root = join(work, 'root');
  await runCommand(['dpkg-deb', '-x', join(work, deb), root], { signal, timeoutMs: 300_000 });
  await rm(join(work, deb));
  const releases = await readdir(join(root, 'lib/modules')).catch(() => []);
  if (releases.length !== 1)
    throw new LabError(
      'DVS_LAB_COMMAND_FAILED',
      `${deb}: expected one lib/modules/<release>, found ${releases.join(', ') || 'none'}`,
    );
  const kernelRelease = releases[0];
  const modulesDir = join(root, 'lib/modules', kernelRelease);
  if (!existsSync(join(modulesDir, 'modules.dep'))) {
    progress(`depmod -b for ${kernelRelease}`);
    await runCommand(['depmod', '-b', root, kernelRelease], { signal, timeoutMs: 120_000 });
  }
  const plan = moduleLoadPlan(
    GUEST_MODULES,
    parseModulesDep(await readFile(join(modulesDir, 'modules.dep'), 'utf8')),
    parseModulesBuiltin(await readFile(join(modulesDir, 'modules.builtin'), 'utf8').catch(() => '')),
  );

  const bzImage = join(root, 'boot', `vmlinuz-${kernelRelease}`);
  const version = bzImageVersion(await readFile(bzImage));
  if (version === null || !version.startsWith(`${kernelRelease} `))
    throw new LabError(
      'DVS_LAB_COMMAND_FAILED',
      `${bzImage} is not a bzImage of ${kernelRelease} (it says ${version ?? 'nothing'})`,
    );

  progress(`initramfs: busybox + ${plan.load.map((p) => p.slice(p.lastIndexOf('/') + 1)).join(' ')}`);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'etc', 'lib', 'lib/modules', 'proc', 'root', 'sys', 'tmp'].map((path): CpioEntry => ({
      kind: 'dir',
      path,
    })),
    // The kernel opens /dev/console for init's stdio before /init mounts devtmpfs.
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { kind: 'file', path: 'init', data: Buffer.from(GUEST_INIT), mode: 0o755 },
  ];
  const moduleFiles: string[] = [];
  for (const rel of plan.load) {
    const file = rel.slice(rel.lastIndexOf('/') + 1).replace(/\.(xz|zst|gz)$/, '');
    entries.push({
      kind: 'file',
      path: `lib/modules/${file}`,
      data: await decompressedModule(join(modulesDir, rel), signal),
    });
    moduleFiles.push(file);
  }
  entries.push({ kind: 'file', path: GUEST_MODULE_LIST, data: Buffer.from(moduleFiles.join('\n') + '\n') });
  await writeFile(join(work, 'initrd.gz'), gzipSync(writeCpioNewc(entries), { level: 9 }));
  await copyFile(bzImage, join(work, 'vmlinuz'));
  // Replace the old image only once the new one is complete.
  await rename(join(work, 'vmlinuz'), join(dir, 'vmlinuz'));
  await rename(join(work, 'initrd.gz'), join(dir, 'initrd.gz'));
  progress(`guest image ready: ${kernelRelease}, ${moduleFiles.length} modules`);
  return {
    kernelRelease,
    kernelPackage: resolved.pkg,
    kernelPackageVersion: resolved.version,
    modules: moduleFiles,
  };
}
