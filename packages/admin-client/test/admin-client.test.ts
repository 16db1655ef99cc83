import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAdminRequest, encodeAdminLine, type AdminRequest } from '@dvs/wire';
import { AdminCallError, AdminClient, AdminUnavailableError } from '../src/index.js';

/** A unix-socket server speaking the admin protocol; `answer` decides per request (undefined: stay silent). */
async function adminServer(
  answer: (request: AdminRequest, socket: Socket) => string | undefined,
): Promise<{ path: string; server: Server; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'dvs-admin-client-'));
  const path = join(dir, 'agent.sock');
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const request = decodeAdminRequest(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        const line = request === null ? undefined : answer(request, socket);
        if (line !== undefined) socket.write(line);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    server,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const ok = (id: number, text: string, data: unknown = null): string => encodeAdminLine({ id, ok: true, text, data });

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('pipelined calls are matched by id, even when the agent answers out of order', async () => {
  const held: AdminRequest[] = [];
  const srv = await adminServer((request, socket) => {
    held.push(request);
    if (held.length < 2) return undefined;
    // Answer the second request first.
    for (const r of [...held].reverse()) socket.write(ok(r.id, `${r.command} ${r.args.join(' ')}`, r.args));
    return undefined;
  });
  const client = new AdminClient(srv.path);
  try {
    const [a, b] = await Promise.all([client.call('fdb/show', ['100']), client.call('ports/show')]);
    assert.deepEqual(a, { text: 'fdb/show 100', data: ['100'] });
    assert.deepEqual(b, { text: 'ports/show ', data: [] });
    assert.equal(client.pending, 0);
  } finally {
    client.close();
    await srv.close();
  }
});

test("an error answer rejects with AdminCallError carrying the agent's code", async () => {
  const srv = await adminServer((r) =>
    encodeAdminLine({ id: r.id, ok: false, error: { code: 'DVS_BAD_ARGUMENT', message: 'VNI must be 1..16777215' } }),
  );
  const client = new AdminClient(srv.path);
  try {
    const err = await client.call('fdb/show', ['0']).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AdminCallError && !(err instanceof AdminUnavailableError));
    assert.equal(err.code, 'DVS_BAD_ARGUMENT');
    assert.equal(err.message, 'VNI must be 1..16777215');
  } finally {
    client.close();
    await srv.close();
  }
});

test('no socket: DVS_ADMIN_UNAVAILABLE naming the path and the errno', async () => {
  const client = new AdminClient('/nonexistent/dvs-test/agent.sock');
  const err = await client.call('version').then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AdminUnavailableError);
  assert.equal(err.code, 'DVS_ADMIN_UNAVAILABLE');
  assert.equal(err.reason, 'ENOENT');
  assert.match(err.message, /\/nonexistent\/dvs-test\/agent\.sock/);
});

test('a timeout and an abort each end the call, clear its timer and forget its waiter; a late answer is ignored', async () => {
  let silent: AdminRequest[] = [];
  let lastSocket: Socket | null = null;
  const srv = await adminServer((r, socket) => {
    silent.push(r);
    lastSocket = socket;
    return undefined;
  });
  const client = new AdminClient(srv.path, { timeoutMs: 60_000 });
  try {
    // Connect first so the baseline counts only this test's own timers.
    const warm = client.call('version', [], { timeoutMs: 50 }).catch((e: unknown) => e);
    assert.equal(((await warm) as AdminUnavailableError).code, 'DVS_ADMIN_TIMEOUT');
    assert.equal(client.pending, 0, 'the timed-out waiter is forgotten');
    const before = timers();

    const controller = new AbortController();
    const aborted = client.call('fdb/show', [], { signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(client.pending, 1);
    assert.equal(timers(), before + 1, 'the call has its 60 s timer');
    controller.abort();
    const err = (await aborted) as AdminUnavailableError;
    assert.ok(err instanceof AdminUnavailableError);
    assert.equal(err.code, 'DVS_ABORTED');
    assert.equal(client.pending, 0, 'the aborted waiter is forgotten');
    assert.equal(timers(), before, 'the aborted call cleared its timer');

    // Late answers to both calls arrive: nothing to resolve, nothing throws.
    for (const r of silent) (lastSocket as Socket | null)?.write(ok(r.id, 'late'));
    silent = [];
    await new Promise((r) => setTimeout(r, 20));
    // The connection still serves new calls.
    const next = client.call('version', [], { timeoutMs: 100 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    for (const r of silent) (lastSocket as Socket | null)?.write(ok(r.id, 'v1'));
    assert.deepEqual(await next, { text: 'v1', data: null });
  } finally {
    client.close();
    await srv.close();
  }
});

test('an already aborted signal fails before connecting; a lost connection fails what is waiting', async () => {
  const srv = await adminServer((_r, socket) => {
    socket.destroy();
    return undefined;
  });
  const client = new AdminClient(srv.path);
  try {
    const err = await client.call('version', [], { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    assert.equal((err as AdminUnavailableError).code, 'DVS_ABORTED');
    const lost = (await client.call('version').catch((e: unknown) => e)) as AdminUnavailableError;
    assert.ok(lost instanceof AdminUnavailableError);
    assert.equal(lost.code, 'DVS_ADMIN_UNAVAILABLE');
    assert.equal(lost.reason, 'connection closed');
    assert.equal(client.pending, 0);
  } finally {
    client.close();
    await srv.close();
  }
});
