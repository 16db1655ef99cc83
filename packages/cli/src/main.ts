#!/usr/bin/env node
// The `dvs` binary: real streams, real environment, Ctrl-C ends --watch.
import { runCli } from './run-cli.js';

const controller = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
  });
}

const code = await runCli(
  process.argv.slice(2),
  {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdoutIsTty: process.stdout.isTTY === true,
    columns: process.stdout.columns,
    env: process.env,
  },
  { signal: controller.signal },
);
// Exit now: an idle keep-alive connection must not hold the process open.
// (stdout and stderr are synchronous for files, pipes and terminals on Linux.)
process.exit(interrupted && code !== 0 ? 130 : code);
