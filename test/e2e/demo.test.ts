// `npm run demo`, the README's first command, run as a user runs it (the
// built lab program, after bootstrap): it must end "demo OK" with exit 0.
// Its own checks fail it when a step does not work (the ping matrix, the
// QEMU migration, traffic after the moves, ARP suppression answering, the
// flow cache seeing flows); here we also check that the controller reports
// no problem at the end and that the teardown removed everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { run } from '../support/run-command.js';

const DEMO = fileURLToPath(new URL('../../../packages/lab/dist/src/demo.js', import.meta.url));

test('npm run demo: a lab with real QEMU VMs, pings, a live migration there and back, the views; demo OK, no problems, nothing left behind', async () => {
  const r = await run([process.execPath, DEMO], { allowFailure: true, timeoutMs: 200_000 });
  const output = `${r.stdout}${r.stderr}`;
  assert.equal(r.code, 0, `the demo failed:\n${output.slice(-4000)}`);
  assert.match(r.stdout, /^== demo OK =+$/m);
  assert.match(r.stdout, /all \d+ pairs as expected/);
  assert.match(r.stdout, /== migration report h1 -> h3 =+/);
  assert.match(r.stdout, /== migration report h3 -> h1 =+/);
  assert.match(r.stdout, /^no problems$/m, 'dvs status at the end names no problem');
  assert.match(r.stdout, /^ {2}everything removed$/m);
});
