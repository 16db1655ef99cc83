// `npm run docs -w @dvs/cli`: writes docs/cli.md from the commander definitions.
// With --check, writes nothing and exits 1 when docs/cli.md is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateCliDocs } from './cli-docs.js';

const target = fileURLToPath(new URL('../../../../docs/cli.md', import.meta.url));
const text = generateCliDocs();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = '';
  }
  if (current !== text) {
    console.error(`${target} is out of date: run npm run docs -w @dvs/cli`);
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
