// `--help` prints help and exits: it never starts a benchmark (no namespace,
// no agent: the test would take minutes and leave traces if it did).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bench = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

for (const [name, file] of [
  ['datapath', bench('../src/datapath-bench/main.js')],
  ['workers', bench('../src/workers-bench/main.js')],
  ['migration', bench('../bench/migration.js')],
] as const) {
  test(`the ${name} benchmark: --help prints its options and exits 0 at once; an unknown option exits 2`, () => {
    const help = spawnSync(process.execPath, [file, '--help'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: npm run bench -- ${name} \\[options\\]`));
    assert.match(help.stdout, /-h, --help/);
    assert.equal(help.stderr, '', 'nothing but the help text');
    if (name === 'migration') assert.match(help.stdout, /--qemu +real QEMU VMs/);
    if (name === 'datapath') {
      assert.match(help.stdout, /--wire-packets N +underlay datagrams captured/);
      assert.match(help.stdout, /--ovs +add ovs-userspace/);
    }
    if (name === 'datapath' || name === 'workers') {
      const bad = spawnSync(process.execPath, [file, '--no-such-option'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /Unknown option '--no-such-option'; --help lists the options/);
    }
  });
}
