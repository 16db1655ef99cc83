import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

// The data-path boundary ("the data path never imports etcd, http or
// commander"; it imports only @dvs/wire, @dvs/netdev and its own folder) is
// an allowlist in the lint config; prove it bites, including the ways around a
// denylist: a package nobody listed, a re-export through ../index.js, a
// dynamic import().
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });
const datapathFile = `${repoRoot}/packages/agent/src/datapath/boundary-probe.ts`;

/** The boundary's complaints about `code` as if it were `filePath`. */
async function boundaryErrors(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

for (const [what, code] of [
  ['etcd3', "import { Etcd3 } from 'etcd3';\nexport const x = Etcd3;\n"],
  ['node:http', "import http from 'node:http';\nexport const x = http;\n"],
  ['commander', "import { Command } from 'commander';\nexport const x = Command;\n"],
  ['msgpackr (control-plane records)', "import { pack } from 'msgpackr';\nexport const x = pack;\n"],
  ['yaml (a package no denylist named)', "import { parse } from 'yaml';\nexport const x = parse;\n"],
  [
    '@dvs/netdev/testing (fakes)',
    "import { FakeFrameDevice } from '@dvs/netdev/testing';\nexport const x = FakeFrameDevice;\n",
  ],
  ['@dvs/etcd', "import { KeyspaceFollower } from '@dvs/etcd';\nexport const x = KeyspaceFollower;\n"],
  ['the etcd sync', "import { x as y } from '../etcd-sync/etcd-sync.js';\nexport const x = y;\n"],
  ['the admin socket', "import { x as y } from '../admin/admin-server.js';\nexport const x = y;\n"],
  ['the etcd sync as a type', "import type { EtcdSync } from '../etcd-sync/index.js';\nexport type X = EtcdSync;\n"],
  ['a re-export through ../index.js', "export { EtcdSync } from '../index.js';\n"],
  ['everything of ../index.js', "export * from '../index.js';\n"],
  ['a dynamic import()', "export const load = () => import('../etcd-sync/index.js');\n"],
  ['a dynamic import() of an allowed package', "export const load = () => import('@dvs/wire');\n"],
  ['node:fs', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
] as const) {
  test(`lint fails when the data path imports ${what}`, async () => {
    const messages = await boundaryErrors(code, datapathFile);
    assert.equal(messages.length, 1, `expected one boundary error, got ${JSON.stringify(messages)}`);
  });
}

test('lint allows the data path @dvs/wire, @dvs/netdev and files of its own folder', async () => {
  const code = [
    "import { readMac } from '@dvs/wire';",
    "import type { FrameDevice } from '@dvs/netdev';",
    "import { Fdb } from './fdb.js';",
    "export { Port } from './port.js';",
    'export const x = [readMac, Fdb];',
    'export type D = FrameDevice;',
    '',
  ].join('\n');
  assert.deepEqual(await boundaryErrors(code, datapathFile), []);
});

test('the same imports outside the data path are allowed (the rule is scoped)', async () => {
  const code = "import http from 'node:http';\nexport const x = http;\nexport const load = () => import('yaml');\n";
  assert.deepEqual(await boundaryErrors(code, `${repoRoot}/packages/agent/src/observe/probe.ts`), []);
});
