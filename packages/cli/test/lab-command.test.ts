import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { CliContext } from '../src/cli-context.js';
import { CliError, EXIT_PROBLEM } from '../src/cli-errors.js';
import { runLab } from '../src/commands/lab-command.js';

const ctx = (): CliContext => ({
  io: { stdout: () => undefined, stderr: () => undefined, stdoutIsTty: false, env: {} },
  now: () => 0,
  signal: new AbortController().signal,
  exitCode: 0,
});

test('a missing @dvs/lab is a clear error (exit 1), not a crash', async () => {
  const missing = () =>
    Promise.reject(Object.assign(new Error("Cannot find package '@dvs/lab'"), { code: 'ERR_MODULE_NOT_FOUND' }));
  await assert.rejects(
    runLab(['up'], ctx(), () => undefined, missing),
    (e: unknown) => {
      assert.ok(e instanceof CliError);
      assert.equal(e.exitCode, EXIT_PROBLEM);
      assert.equal(e.message, 'the lab is not available: @dvs/lab is not installed or not built (run npm run build)');
      return true;
    },
  );
  const broken = () => Promise.reject(new Error('SyntaxError in lab'));
  await assert.rejects(
    runLab([], ctx(), () => undefined, broken),
    /loading @dvs\/lab failed: SyntaxError in lab/,
  );
  await assert.rejects(
    runLab(
      [],
      ctx(),
      () => undefined,
      async () => ({}),
    ),
    /does not export createLabCommand\(\)/,
  );
});

test("the lab's program runs with our settings on every subcommand, and its exit status comes back", async () => {
  const seen: string[] = [];
  const lab = {
    createLabCommand: () => {
      const cmd = new Command('lab');
      cmd.command('ping').action(() => {
        seen.push('ping');
        process.exitCode = 1;
      });
      return cmd;
    },
  };
  const prepared: string[] = [];
  const code = await runLab(
    ['ping'],
    ctx(),
    (c) => prepared.push(c.name()),
    async () => lab,
  );
  assert.deepEqual(seen, ['ping']);
  assert.equal(code, 1);
  assert.deepEqual(prepared, ['dvs lab', 'ping']);
  assert.notEqual(process.exitCode, 1, 'process.exitCode restored');
});
