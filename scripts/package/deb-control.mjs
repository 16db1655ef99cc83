// The .deb's metadata: DEBIAN/control, conffiles, md5sums and the copyright
// file, for the staged tree `root`.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * The runtime: Debian's nodejs package, version 20 or later (Debian 13 ships
 * 20.19; on Debian 12, NodeSource's nodejs 20 package satisfies it). adduser
 * creates the dvs user in postinst.
 */
export const DEB_DEPENDS = ['nodejs (>= 20)', 'adduser'];
/** `ip` for operators and the QEMU hooks; for `dvs lab`: etcd, ping, and openssl for the lab API's certificates. */
const RECOMMENDS = ['iproute2'];
const SUGGESTS = ['etcd-server', 'etcd-client', 'iputils-ping', 'openssl'];

/** The shared-library dependencies of the native addon, as dpkg-shlibdeps computes them. */
function sharedLibraryDepends(libraries) {
  const work = mkdtempSync(join(tmpdir(), 'dvs-shlibs-'));
  try {
    mkdirSync(join(work, 'debian'));
    writeFileSync(join(work, 'debian/control'), 'Source: dvs\n\nPackage: dvs\nArchitecture: any\n');
    let out;
    try {
      out = execFileSync('dpkg-shlibdeps', ['-O', ...libraries], { cwd: work, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      if (error.code === 'ENOENT') throw new Error('dpkg-shlibdeps is missing: apt-get install dpkg-dev');
      throw error;
    }
    const line = out.split('\n').find((l) => l.startsWith('shlibs:Depends='));
    if (!line) throw new Error(`dpkg-shlibdeps gave no shlibs:Depends for ${libraries.join(' ')}`);
    return line.slice('shlibs:Depends='.length).split(', ');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function walkFiles(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkFiles(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function installedSizeKiB(root) {
  return Number(execFileSync('du', ['-s', '-k', '--apparent-size', root], { encoding: 'utf8' }).split('\t')[0]);
}

function copyright(bundled) {
  const modules = [...bundled]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ` ${m.name} ${m.version}: ${typeof m.license === 'string' ? m.license : JSON.stringify(m.license)}`);
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: dvs',
    '',
    'Files: *',
    'Copyright: the dvs authors',
    'License: not stated by the dvs project yet',
    '',
    'Files: usr/lib/dvs/node_modules/*',
    'Comment: Node.js modules dvs runs with, bundled as package-lock.json resolves',
    ' them; each directory holds its own licence text. Module, version, licence:',
    ...modules,
    '',
  ].join('\n');
}

export function debianFiles({ root, version, arch, conffiles, nativeLibraries, bundled }) {
  const depends = [...DEB_DEPENDS, ...sharedLibraryDepends(nativeLibraries)];
  const control = [
    'Package: dvs',
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: the dvs authors <dvs@localhost>',
    `Installed-Size: ${installedSizeKiB(root)}`,
    `Depends: ${depends.join(', ')}`,
    `Recommends: ${RECOMMENDS.join(', ')}`,
    `Suggests: ${SUGGESTS.join(', ')}`,
    'Section: net',
    'Priority: optional',
    'Description: distributed virtual switch for multi-host VM networks (VXLAN, GRE-in-UDP)',
    ' dvs joins the VMs of many hosts into virtual L2 networks. dvs-agent runs on',
    ' every host: a learning switch that plugs TAP devices into one switch per',
    ' VNI and tunnels frames to other hosts in VXLAN (RFC 7348) or GRE-in-UDP',
    ' (RFC 8086). dvs-controller keeps the MAC tables and flood lists in etcd;',
    ' the dvs command shows and changes all of it, and `dvs lab` builds a',
    ' multi-host lab in network namespaces on one machine.',
    '',
  ].join('\n');
  return {
    control: { control, conffiles: conffiles.map((f) => `${f}\n`).join('') },
    copyright: copyright(bundled),
    /** DEBIAN/md5sums over every file of the tree (call after the last file is written). */
    md5sums: () =>
      walkFiles(root)
        .filter((f) => !relative(root, f).startsWith('DEBIAN/'))
        .sort()
        .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(root, f)}\n`)
        .join(''),
  };
}
