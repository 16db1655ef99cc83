import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControllerApiError, ControllerUnreachableError, EXIT_PROBLEM, EXIT_USAGE } from '../src/cli-errors.js';
import { ControllerClient } from '../src/clients/controller-client.js';
import { closedPort } from './fake-controller.js';

async function serve(status: number, body: string, contentType = 'application/json') {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('an error body maps to ControllerApiError with the controller code; 400 is a usage error', async () => {
  const s = await serve(
    400,
    JSON.stringify({ error: { code: 'DVS_MAC_INVALID', message: 'mac: not a MAC', field: 'mac' } }),
  );
  try {
    await assert.rejects(new ControllerClient(s.url).fdb({ mac: 'x' }), (e: unknown) => {
      assert.ok(e instanceof ControllerApiError);
      assert.deepEqual(
        [e.code, e.status, e.field, e.exitCode, e.message],
        ['DVS_MAC_INVALID', 400, 'mac', EXIT_USAGE, 'mac: not a MAC'],
      );
      return true;
    });
  } finally {
    await s.close();
  }
});

test('something that is not a dvs-controller is said so, exit 1', async () => {
  for (const [status, body] of [
    [502, '<html>bad gateway</html>'],
    [200, 'hello'],
  ] as const) {
    const s = await serve(status, body, 'text/html');
    try {
      await assert.rejects(new ControllerClient(s.url).status(), (e: unknown) => {
        assert.ok(e instanceof ControllerApiError);
        assert.equal(e.exitCode, EXIT_PROBLEM);
        assert.match(e.message, /is that a dvs-controller\?/);
        return true;
      });
    } finally {
      await s.close();
    }
  }
});

test('connection refused and timeouts are ControllerUnreachableError naming the URL', async () => {
  const port = await closedPort();
  await assert.rejects(new ControllerClient(`http://127.0.0.1:${port}/`).hosts(), (e: unknown) => {
    assert.ok(e instanceof ControllerUnreachableError);
    assert.equal(e.url, `http://127.0.0.1:${port}`, 'trailing slash dropped');
    assert.match(e.message, /\(ECONNREFUSED\)/);
    return true;
  });
  const silent = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    await assert.rejects(
      new ControllerClient(url, { timeoutMs: 100 }).status(),
      /controller not reachable at .* \(timed out\)/,
    );
  } finally {
    silent.closeAllConnections();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});

test('queries and paths are built as docs/api.md says', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ entries: [], tunnels: [], floodLists: [], network: {}, deleted: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const c = new ControllerClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await c.fdb({ vni: 100, host: 'host-a', mac: '02:00:00:00:00:01', duplicate: true });
    await c.tunnels('host-a');
    await c.flood(7);
    await c.removeExternalVtep(100, '2001:db8::1', 4789);
    await c.deleteStaticFdb(100, '02:00:00:00:00:01');
    assert.deepEqual(seen, [
      'GET /v1/fdb?vni=100&host=host-a&mac=02%3A00%3A00%3A00%3A00%3A01&duplicate=true',
      'GET /v1/tunnels?host=host-a',
      'GET /v1/flood?vni=7',
      'DELETE /v1/networks/100/external-vteps/2001%3Adb8%3A%3A1?port=4789',
      'DELETE /v1/fdb/100/02:00:00:00:00:01',
    ]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
