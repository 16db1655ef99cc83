#!/usr/bin/env node
// `npm run bench [-- name…]`: runs the named sub-benchmarks in turn (default: all).
// Each is a built script; one that is not built yet is reported as such, never faked.
//   wire, netdev, agent, controller: packages/<pkg>/dist/bench/index.js
//   scale: simulated agents (real EtcdSync + table application) on 3 etcd members and 2 controllers
//   migration: 20 live migrations in the lab; --qemu: 10 real QEMU live migrations (packages/lab/dist/bench/migration.js)
//   datapath: dvs against kernel vxlan and a veth (packages/lab/dist/src/datapath-bench/main.js)
//   workers: 1 against 2 data-path worker threads per host (packages/lab/dist/src/workers-bench/main.js)
//   qemu-guest: real QEMU guests, boot time and live migration on a bridge (packages/lab/dist/bench/qemu-guest.js)
//   qemu-soak: guests that crash after a live migration, per set of guest clock parameters (packages/lab/dist/bench/qemu-migration-soak.js)
// Extra arguments after the names go to every benchmark (e.g. `-- migration --moves 6`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benches = {
  wire: 'packages/wire/dist/bench/index.js',
  netdev: 'packages/netdev/dist/bench/index.js',
  agent: 'packages/agent/dist/bench/index.js',
  controller: 'packages/controller/dist/bench/index.js',
  scale: 'packages/agent/dist/bench/scale.js',
  migration: 'packages/lab/dist/bench/migration.js',
  datapath: 'packages/lab/dist/src/datapath-bench/main.js',
  workers: 'packages/lab/dist/src/workers-bench/main.js',
  'qemu-guest': 'packages/lab/dist/bench/qemu-guest.js',
  'qemu-soak': 'packages/lab/dist/bench/qemu-migration-soak.js',
};

const argv = process.argv.slice(2);
const names = argv.filter((a) => a in benches);
if (names.length === 0 && (argv.includes('--help') || argv.includes('-h'))) {
  console.log(`usage: npm run bench [-- name… [options]]   names: ${Object.keys(benches).join(', ')} (default: all)
Options after the names go to each named benchmark; \`npm run bench -- datapath --help\` shows its own.`);
  process.exit(0);
}
const rest = argv.filter((a) => !(a in benches));
const unknown = rest.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a));
if (unknown.length > 0 && names.length === 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}
const selected = names.length > 0 ? names : Object.keys(benches);
const results = [];
for (const name of selected) {
  const file = join(root, benches[name]);
  console.log(`\n### bench ${name}`);
  if (!existsSync(file)) {
    console.log(`not built yet (${benches[name]} missing): skipped`);
    results.push([name, 'not built']);
    continue;
  }
  const r = spawnSync(process.execPath, [file, ...rest], { stdio: 'inherit', cwd: root });
  results.push([name, r.status === 0 ? 'ok' : `failed (exit ${r.status ?? r.signal})`]);
}
console.log('\n### benchmarks');
for (const [name, state] of results) console.log(`  ${name.padEnd(11)} ${state}`);
process.exit(results.some(([, s]) => s.startsWith('failed')) ? 1 : 0);
