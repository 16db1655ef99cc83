import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateCliDocs } from '../src/cli-docs.js';

const DOCS = fileURLToPath(new URL('../../../../docs/cli.md', import.meta.url));

test('docs/cli.md is generated from the commander definitions and up to date', () => {
  const expected = generateCliDocs();
  const actual = readFileSync(DOCS, 'utf8');
  assert.ok(actual === expected, 'docs/cli.md is out of date: run `npm run docs -w @dvs/cli` and commit it');
});

test('every command has a section with examples', () => {
  const docs = generateCliDocs();
  for (const title of [
    '## dvs status',
    '## dvs tunnels',
    '## dvs fdb add',
    '## dvs networks create',
    '## dvs agent call',
    '## dvs trace',
  ]) {
    const at = docs.indexOf(`${title}\n`);
    assert.ok(at >= 0, title);
    assert.match(docs.slice(at, docs.indexOf('```\n', docs.indexOf('```text', at) + 7)), /Examples:/, title);
  }
});
