import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CRASH_EXIT_CODE, installCrashHandlers } from '../src/index.js';

function recorder() {
  const lines: { msg: string; fields: Record<string, unknown> }[] = [];
  const exits: number[] = [];
  return {
    lines,
    exits,
    log: { error: (msg: string, fields: Record<string, unknown> = {}) => lines.push({ msg, fields }) },
    exit: (code: number) => exits.push(code),
  };
}

test('an uncaught exception: one structured line naming the daemon and the error, then exit 70 once', () => {
  const target = new EventEmitter();
  const r = recorder();
  const remove = installCrashHandlers(r.log, { daemon: 'dvs-test', exit: r.exit, target });
  const err = Object.assign(new TypeError('boom'), { code: 'DVS_X' });
  target.emit('uncaughtException', err);
  target.emit('unhandledRejection', new Error('second'));
  assert.equal(r.lines.length, 1);
  assert.deepEqual(r.exits, [CRASH_EXIT_CODE]);
  assert.equal(r.lines[0]!.msg, 'uncaught exception: exiting so the supervisor restarts dvs-test');
  assert.equal(r.lines[0]!.fields.error, 'TypeError: boom');
  assert.equal(r.lines[0]!.fields.code, 'DVS_X');
  assert.match(String(r.lines[0]!.fields.stack), /crash-handlers\.test/);
  remove();
  assert.equal(target.listenerCount('uncaughtException'), 0);
  assert.equal(target.listenerCount('unhandledRejection'), 0);
});

test('an unhandled rejection with a non-Error reason is described, not lost', () => {
  const target = new EventEmitter();
  const r = recorder();
  installCrashHandlers(r.log, { daemon: 'dvs-test', exit: r.exit, target });
  target.emit('unhandledRejection', { why: 'etcd gone' });
  assert.equal(r.lines[0]!.fields.kind, 'unhandled rejection');
  assert.equal(r.lines[0]!.fields.error, '{"why":"etcd gone"}');
  assert.deepEqual(r.exits, [70]);
});

test('a real process: a throw from a timer and a rejected promise each end it with exit 70 and one JSON line', () => {
  const wire = fileURLToPath(new URL('../src/index.js', import.meta.url));
  for (const fault of [
    'setTimeout(() => { throw new Error("timer") }, 10)',
    'Promise.reject(new Error("nobody waits"))',
  ]) {
    const script = `
      import { installCrashHandlers } from ${JSON.stringify(wire)};
      const log = { error: (msg, f) => process.stderr.write(JSON.stringify({ level: 'error', msg, ...f }) + '\\n') };
      installCrashHandlers(log, { daemon: 'dvs-child' });
      ${fault};
      setTimeout(() => process.stdout.write('still running'), 2000);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 70, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    const line = JSON.parse(lines[0]!) as { msg: string; daemon: string };
    assert.equal(line.daemon, 'dvs-child');
    assert.match(line.msg, /^(uncaught exception|unhandled rejection): exiting so the supervisor restarts dvs-child$/);
  }
});
