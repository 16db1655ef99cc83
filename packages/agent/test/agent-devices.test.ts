// Without the netdev addon the agent's tunnel sockets fall back to node:dgram,
// and it says so: one warning, the first time, never silently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetdevError, openTunnelSocket, type TunnelSocket } from '@dvs/netdev';
import { linuxDevices } from '../src/agent-devices.js';
import { createLogger } from '../src/observe/logger.js';

test('no native addon: the sockets are node:dgram ones, and one warning says why and what to do', async () => {
  const lines: string[] = [];
  const logger = createLogger({ format: 'json', write: (line) => lines.push(line) });
  const missingAddon = async (): Promise<never> => {
    throw new NetdevError('DVS_NATIVE_UNAVAILABLE', 'the native addon is not built (dvs_netdev.node)');
  };
  const devices = linuxDevices(logger, missingAddon);
  const sockets = [
    await devices.openTunnelSocket({ address: '127.0.0.1', port: 0 }),
    await devices.openTunnelSocket({ address: '127.0.0.1', port: 0 }),
  ];
  try {
    for (const s of sockets) assert.equal(s.constructor.name, 'DgramTunnelSocket');
    assert.equal(lines.length, 1, 'one warning for the process, not one per socket');
    const warning = JSON.parse(lines[0]!) as { level: string; msg: string; error: string };
    assert.equal(warning.level, 'warn');
    assert.match(
      warning.msg,
      /native addon is not built: tunnel sockets fall back to node:dgram.*scripts\/bootstrap\.sh/,
    );
    assert.match(warning.error, /dvs_netdev\.node/);
  } finally {
    for (const s of sockets) s.close();
  }
});

test('any other failure to open the native socket is an error, not a fallback', async () => {
  const lines: string[] = [];
  const devices = linuxDevices(createLogger({ write: (line) => lines.push(line) }), async () => {
    throw new NetdevError('DVS_ADDRESS_IN_USE', 'address in use');
  });
  await assert.rejects(devices.openTunnelSocket({ address: '127.0.0.1', port: 0 }), { code: 'DVS_ADDRESS_IN_USE' });
  assert.deepEqual(lines, []);
});

test('a kernel that refuses UDP_GRO: the socket is used as it is, and one warning says so', async () => {
  const lines: string[] = [];
  const logger = createLogger({ format: 'json', write: (line) => lines.push(line) });
  const refusal = { offload: 'udpGro' as const, errno: 'ENOPROTOOPT', reason: 'the kernel has no UDP_GRO' };
  const opened: TunnelSocket[] = [];
  const devices = linuxDevices(logger, async (options) => {
    const socket = await openTunnelSocket({ ...options, receiveOffload: false });
    opened.push(socket);
    // What openTunnelSocket returns when the kernel refused: plain receive, and why.
    return Object.assign(Object.create(socket) as TunnelSocket, { groRefusal: refusal });
  });
  const sockets = [
    await devices.openTunnelSocket({ address: '127.0.0.1', port: 0, receiveOffload: true }),
    await devices.openTunnelSocket({ address: '127.0.0.1', port: 0, receiveOffload: true }),
  ];
  try {
    for (const s of sockets) assert.notEqual(s.receivesSuperDatagrams, true, 'plain receive');
    assert.equal(lines.length, 1, 'one warning for the process, not one per socket');
    const warning = JSON.parse(lines[0]!) as { level: string; msg: string; errno: string };
    assert.equal(warning.level, 'warn');
    assert.match(warning.msg, /refused UDP_GRO: tunnel sockets receive datagrams one by one/);
    assert.equal(warning.errno, 'ENOPROTOOPT');
  } finally {
    for (const s of opened) s.close();
  }
});

test('UDP_GRO taken: no warning', async () => {
  const lines: string[] = [];
  const devices = linuxDevices(createLogger({ write: (line) => lines.push(line) }));
  const socket = await devices.openTunnelSocket({ address: '127.0.0.1', port: 0, receiveOffload: true });
  try {
    assert.equal(socket.receivesSuperDatagrams, true);
    assert.deepEqual(lines, []);
  } finally {
    socket.close();
  }
});
