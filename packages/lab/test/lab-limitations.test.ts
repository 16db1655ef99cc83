// A lab that falls short of a full one (a program not built) says so at
// once, in one line, and keeps it in its state: never a silent fallback.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabRecorder } from '../src/lab-recorder.js';
import { loadLabState, newLabState } from '../src/lab-state.js';

let dir: string;
const saved = process.env.DVS_LAB_DIR;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dvs-lab-limitations-'));
  process.env.DVS_LAB_DIR = dir;
});

after(async () => {
  if (saved === undefined) delete process.env.DVS_LAB_DIR;
  else process.env.DVS_LAB_DIR = saved;
  await rm(dir, { recursive: true, force: true });
});

test('a limitation is said once as it happens and recorded in the state file', async () => {
  const said: string[] = [];
  const recorder = new LabRecorder(newLabState('lm01'), (text) => said.push(text));
  const why = 'dvs-controller is not built: agents run with static peers, no etcd tables';
  await recorder.noteLimitation(why);
  await recorder.noteLimitation(why);
  assert.deepEqual(said, [why]);
  assert.deepEqual((await loadLabState('lm01'))?.limitations, [why]);
});

test('by default the limitation goes to stderr as one line', async () => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    await new LabRecorder(newLabState('lm02')).noteLimitation('the netdev addon is not built');
  } finally {
    process.stderr.write = write;
  }
  assert.deepEqual(lines, ['dvs lab: limitation: the netdev addon is not built\n']);
});
