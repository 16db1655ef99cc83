import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

// The data-path boundary (DESIGN.md: "the data path never imports etcd, http or
// commander") is enforced by the lint config; prove the rule bites.
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });
const datapathFile = `${repoRoot}/packages/agent/src/datapath/boundary-probe.ts`;

async function restrictedImports(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

for (const [what, code] of [
  ['etcd3', "import { Etcd3 } from 'etcd3';\nexport const x = Etcd3;\n"],
  ['node:http', "import http from 'node:http';\nexport const x = http;\n"],
  ['commander', "import { Command } from 'commander';\nexport const x = Command;\n"],
  ['the control plane', "import { x as y } from '../etcd-sync/etcd-sync.js';\nexport const x = y;\n"],
  ['the admin socket', "import { x as y } from '../admin/admin-server.js';\nexport const x = y;\n"],
] as const) {
  test(`lint fails when the data path imports ${what}`, async () => {
    const messages = await restrictedImports(code, datapathFile);
    assert.equal(messages.length, 1, `expected one no-restricted-imports error, got ${JSON.stringify(messages)}`);
  });
}

test('lint allows the data path to import @dvs/wire and its own folder', async () => {
  const code =
    "import { readMac } from '@dvs/wire';\nimport { Fdb } from './fdb.js';\nexport const x = [readMac, Fdb];\n";
  assert.deepEqual(await restrictedImports(code, datapathFile), []);
});

test('the same import outside the data path is allowed (the rule is scoped)', async () => {
  const code = "import http from 'node:http';\nexport const x = http;\n";
  assert.deepEqual(await restrictedImports(code, `${repoRoot}/packages/agent/src/observe/probe.ts`), []);
});
