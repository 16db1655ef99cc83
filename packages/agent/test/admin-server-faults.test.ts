// A command that throws something odd, or answers with data JSON cannot
// encode, costs that request only: the caller gets DVS_INTERNAL, and the same
// connection and the agent keep answering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from '@dvs/admin-client';
import { AdminServer, CommandRegistry } from '../src/index.js';

test('an admin command that throws null or returns a BigInt answers DVS_INTERNAL; the socket keeps serving', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dva-faults-'));
  const registry = new CommandRegistry();
  const command = (name: string, run: () => { text: string; data: unknown }) =>
    registry.register({ name, usage: name, summary: name, minArgs: 0, maxArgs: 0, run });
  command('fault/throw-null', () => {
    throw null;
  });
  command('fault/bigint', () => ({ text: 'x', data: { n: 1n } }));
  command('fine/show', () => ({ text: 'fine', data: { ok: true } }));
  const server = new AdminServer(registry, join(dir, 'agent.sock'));
  await server.listen();
  const client = new AdminClient(join(dir, 'agent.sock'));
  try {
    for (const name of ['fault/throw-null', 'fault/bigint']) {
      await assert.rejects(client.call(name, []), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, 'DVS_INTERNAL', name);
        return true;
      });
      assert.deepEqual((await client.call('fine/show', [])).data, { ok: true }, `after ${name}`);
    }
  } finally {
    client.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
