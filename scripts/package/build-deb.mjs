#!/usr/bin/env node
// `npm run package`: build/dvs_<version>_<arch>.deb from the built tree, with
// dpkg-deb only (no packaging tool downloads). Layout (docs/install.md):
//   /usr/lib/dvs/packages/<pkg>/  package.json, bin/, dist/src/ (JS only), the addon
//   /usr/lib/dvs/node_modules/    production dependencies, exactly as package-lock.json
//                                 resolves them; @dvs/* link to ../../packages/*
//   /usr/lib/dvs/deploy/          deploy/ (examples, units, Kubernetes, etcd, QEMU hooks)
//   /usr/bin/dvs, dvs-agent, dvs-controller -> /usr/lib/dvs/packages/*/bin/*.js
//   /usr/lib/systemd/system/      dvs-agent.service, dvs-controller.service
//   /etc/dvs/agent.yaml, /etc/dvs/controller.env   conffiles
//   /usr/share/doc/dvs/           README.md, docs/, copyright (with the bundled modules' licences)
// The runtime is Debian's `nodejs (>= 20)`, not bundled (docs/install.md says why).
//   node scripts/package/build-deb.mjs [--out DIR]
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debianFiles } from './deb-control.mjs';
import { packageTree } from './deb-tree.mjs';
import { REPO_ROOT, debVersion, releaseVersion } from './version.mjs';

const LIB = 'usr/lib/dvs';
const BINS = { dvs: 'cli', 'dvs-agent': 'agent', 'dvs-controller': 'controller' };
const CONFFILES = {
  'etc/dvs/agent.yaml': 'deploy/examples/agent.yaml',
  'etc/dvs/controller.env': 'deploy/examples/controller.env',
};
const UNITS = ['deploy/systemd/dvs-agent.service', 'deploy/systemd/dvs-controller.service'];

function run(file, args, options = {}) {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** Directories 0755, files 0644 or 0755 when any execute bit was set. */
function normalizeModes(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
      normalizeModes(path);
    } else {
      chmodSync(path, statSync(path).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

export function buildDeb({ outDir = join(REPO_ROOT, 'build') } = {}) {
  const version = releaseVersion();
  const arch = run('dpkg', ['--print-architecture']).trim();
  const stage = mkdtempSync(join(tmpdir(), 'dvs-deb-'));
  try {
    const root = join(stage, 'root');
    const lib = join(root, LIB);
    const bundled = packageTree(REPO_ROOT, lib);

    cpSync(join(REPO_ROOT, 'deploy'), join(lib, 'deploy'), { recursive: true });
    for (const [name, pkg] of Object.entries(BINS)) {
      mkdirSync(join(root, 'usr/bin'), { recursive: true });
      symlinkSync(`../lib/dvs/packages/${pkg}/bin/${name}.js`, join(root, 'usr/bin', name));
    }
    for (const unit of UNITS) {
      mkdirSync(join(root, 'usr/lib/systemd/system'), { recursive: true });
      cpSync(join(REPO_ROOT, unit), join(root, 'usr/lib/systemd/system', basename(unit)));
    }
    for (const [target, source] of Object.entries(CONFFILES)) {
      mkdirSync(join(root, dirname(target)), { recursive: true });
      cpSync(join(REPO_ROOT, source), join(root, target));
    }
    const doc = join(root, 'usr/share/doc/dvs');
    cpSync(join(REPO_ROOT, 'README.md'), join(doc, 'README.md'));
    cpSync(join(REPO_ROOT, 'docs'), join(doc, 'docs'), { recursive: true });
    normalizeModes(root);

    const addon = join(lib, 'packages/netdev/build/Release/dvs_netdev.node');
    const files = debianFiles({
      root,
      version: debVersion(version),
      arch,
      conffiles: Object.keys(CONFFILES).map((f) => `/${f}`),
      nativeLibraries: [addon],
      bundled,
    });
    writeFileSync(join(doc, 'copyright'), files.copyright, { mode: 0o644 });
    const control = join(root, 'DEBIAN');
    mkdirSync(control, { mode: 0o755 });
    for (const [name, text] of Object.entries(files.control)) {
      writeFileSync(join(control, name), text, { mode: 0o644 });
    }
    for (const script of ['postinst', 'prerm', 'postrm']) {
      cpSync(join(REPO_ROOT, 'scripts/package/debian', script), join(control, script));
      chmodSync(join(control, script), 0o755);
    }
    // md5sums last: it covers every file, copyright included.
    writeFileSync(join(control, 'md5sums'), files.md5sums(), { mode: 0o644 });

    mkdirSync(outDir, { recursive: true });
    const deb = join(outDir, `dvs_${debVersion(version)}_${arch}.deb`);
    // gzip: a few times faster to build than xz here (CI time), for a 2 MB bigger file.
    run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
    return { deb, version, arch };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const out = args[0] === '--out' ? args[1] : undefined;
  if (args.length > 0 && (args[0] !== '--out' || out === undefined || args.length > 2)) {
    console.error('usage: node scripts/package/build-deb.mjs [--out DIR]');
    process.exit(2);
  }
  try {
    const { deb } = buildDeb(out ? { outDir: out } : {});
    console.log(relative(process.cwd(), deb) || deb);
  } catch (error) {
    console.error(`package: ${error.stderr?.trim() || error.message}`);
    process.exit(1);
  }
}
