import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLabError } from '../src/errors.js';
import { GuestConsole, parseConsoleResult, shellQuote } from '../src/qemu/guest-console.js';
import { parseBusyboxPing, parseCompactPing } from '../src/qemu/guest-ping.js';
import { qemuCommand } from '../src/qemu/qemu-command.js';
import { QmpClient } from '../src/qemu/qmp-client.js';

const dir = await mkdtemp(join(tmpdir(), 'dvs-qemu-unit-'));
const servers: Server[] = [];
after(async () => {
  for (const s of servers) s.close();
  await rm(dir, { recursive: true, force: true });
});

function listen(path: string, onConnection: (socket: Socket) => void): Promise<void> {
  const server = createServer(onConnection);
  servers.push(server);
  return new Promise((resolve) => server.listen(path, resolve));
}

/**
 * The guest's command console without the guest: a unix socket whose peer is
 * a real non-interactive `sh` reading one command per line, as /init runs it.
 */
async function shellConsoleSocket(name: string): Promise<string> {
  const path = join(dir, name);
  await listen(path, (socket) => {
    const sh = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    socket.pipe(sh.stdin);
    sh.stdout.pipe(socket);
    sh.stderr.pipe(socket);
    socket.on('close', () => sh.kill('SIGKILL'));
    socket.on('error', () => undefined);
    sh.stdin.on('error', () => undefined);
  });
  return path;
}

test('GuestConsole runs commands through a real shell: output, exit status, quoting, one at a time', async () => {
  const console = await GuestConsole.connect(await shellConsoleSocket('c1.sock'));
  try {
    await console.waitReady({ timeoutMs: 5000 });
    assert.deepEqual(await console.exec('echo hello; echo to-stderr >&2'), { output: 'hello\nto-stderr\n', status: 0 });
    assert.deepEqual(await console.exec('exit 3'), { output: '', status: 3 });
    assert.deepEqual(await console.exec(`printf '%s' "it's \\"quoted\\" \\$HOME"`), {
      output: `it's "quoted" $HOME`,
      status: 0,
    });
    // A syntax error stays inside `sh -c`: the console keeps working.
    assert.equal((await console.exec('if then fi')).status, 2);
    // A command reading stdin gets /dev/null, not the next commands.
    assert.deepEqual(await console.exec('cat; echo after-cat'), { output: 'after-cat\n', status: 0 });
    // Sent back to back, answered in order.
    const results = await Promise.all([1, 2, 3].map((i) => console.exec(`sleep 0.0${4 - i}; echo ${i}`)));
    assert.deepEqual(
      results.map((r) => r.output),
      ['1\n', '2\n', '3\n'],
    );
    await assert.rejects(
      console.run('echo nope; exit 1'),
      (e: unknown) => isLabError(e, 'DVS_LAB_COMMAND_FAILED') && /exit 1: nope/.test(e.message),
    );
    await assert.rejects(console.exec('sleep 5', { timeoutMs: 200 }), (e: unknown) => isLabError(e, 'DVS_LAB_TIMEOUT'));
  } finally {
    console.close();
  }
});

test('parseConsoleResult ignores marker look-alikes from echoed input and other commands', () => {
  const echoed = `printf '\\n@@dvs-b:%s@@\\n' x1; sh -c 'true' </dev/null 2>&1; printf '\\n@@dvs-e:%s:%d@@\\n' x1 $?\n`;
  assert.equal(parseConsoleResult(echoed, 'x1'), null, 'the typed line is not a marker');
  const text = `${echoed}\n@@dvs-b:x0@@\nold\n@@dvs-e:x0:0@@\n\n@@dvs-b:x1@@\nnew\n\n@@dvs-e:x1:7@@\nrest`;
  const r = parseConsoleResult(text, 'x1');
  assert.equal(r?.output, 'new\n');
  assert.equal(r?.status, 7);
  assert.equal(text.slice(r?.end), 'rest');
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});

test('QmpClient: greeting, capabilities, replies matched by id, errors with their class, events kept and awaited', async () => {
  const path = join(dir, 'qmp.sock');
  const received: Record<string, unknown>[] = [];
  await listen(path, (socket) => {
    socket.write('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}}, "capabilities": []}}\r\n');
    let buf = '';
    socket.on('data', (chunk) => {
      buf += chunk.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id: number };
        buf = buf.slice(nl + 1);
        received.push(msg);
        const reply = (r: object) => socket.write(JSON.stringify({ ...r, id: msg.id }) + '\r\n');
        if (msg.execute === 'qmp_capabilities') reply({ return: {} });
        else if (msg.execute === 'query-status') {
          // An event may come between a command and its reply.
          socket.write('{"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "STOP"}\r\n');
          reply({ return: { status: 'paused', running: false } });
        } else if (msg.execute === 'cont') {
          reply({ return: {} });
          setTimeout(
            () => socket.write('{"timestamp": {"seconds": 1700000001, "microseconds": 0}, "event": "RESUME"}\r\n'),
            50,
          );
        } else reply({ error: { class: 'CommandNotFound', desc: `The command ${msg.execute} has not been found` } });
      }
    });
  });
  const qmp = await QmpClient.connect(path);
  try {
    assert.equal(qmp.qemuVersion, '7.2.22');
    assert.deepEqual(received[0], { execute: 'qmp_capabilities', id: 1 });
    assert.deepEqual(await qmp.execute('query-status'), { status: 'paused', running: false });
    assert.deepEqual(qmp.events, [{ event: 'STOP', data: {}, atMs: 1700000000250 }]);
    await assert.rejects(
      qmp.execute('bogus', { x: 1 }),
      (e: unknown) =>
        isLabError(e, 'DVS_LAB_COMMAND_FAILED') &&
        /QMP bogus: The command bogus has not been found \(CommandNotFound\)/.test(e.message),
    );
    assert.deepEqual(received.at(-1), { execute: 'bogus', arguments: { x: 1 }, id: 3 });
    const from = qmp.events.length;
    await qmp.execute('cont');
    const resume = await qmp.waitForEvent('RESUME', { fromIndex: from, timeoutMs: 2000 });
    assert.equal(resume.atMs, 1700000001000);
    await assert.rejects(qmp.waitForEvent('SHUTDOWN', { timeoutMs: 100 }), (e: unknown) =>
      isLabError(e, 'DVS_LAB_TIMEOUT'),
    );
  } finally {
    qmp.close();
  }
  await assert.rejects(qmp.execute('query-status'), /connection to QEMU closed/);
});

test('QmpClient.connect gives up with DVS_LAB_TIMEOUT when nothing listens', async () => {
  await assert.rejects(QmpClient.connect(join(dir, 'absent.sock'), { timeoutMs: 200 }), (e: unknown) =>
    isLabError(e, 'DVS_LAB_TIMEOUT'),
  );
});

test('busybox ping output gives lost seqs, the longest loss run and duplicates', () => {
  const lines = [0, 1, 2, 6, 7, 9].map((s) => `64 bytes from 192.0.2.1: seq=${s} ttl=64 time=0.512 ms`);
  lines.push('64 bytes from 192.0.2.1: seq=7 ttl=64 time=0.913 ms (DUP!)');
  lines.push(
    '',
    '--- 192.0.2.1 ping statistics ---',
    '11 packets transmitted, 6 packets received, +1 duplicates, 45% packet loss',
  );
  assert.deepEqual(parseBusyboxPing(lines.join('\n')), {
    transmitted: 11,
    received: 6,
    duplicates: 1,
    lost: 4,
    longestLossRun: 3,
    longestLossFromSeq: 3,
  });
  assert.deepEqual(parseCompactPing('0\n1\n3\n3 DUP\n4 packets transmitted, 3 packets received, +1 duplicates'), {
    transmitted: 4,
    received: 3,
    duplicates: 1,
    lost: 1,
    longestLossRun: 1,
    longestLossFromSeq: 2,
  });
});

test('qemuCommand: QEMU creates the TAP, MAC and host_mtu on virtio-net, sockets, incoming; no commas in values', () => {
  const argv = qemuCommand({
    name: 'vm1',
    kernel: '/g/vmlinuz',
    initrd: '/g/initrd.gz',
    kernelCommandLine: 'console=ttyS0 dvs.name=vm1',
    accel: 'tcg',
    memoryMb: 128,
    qmpSocket: '/r/qmp.sock',
    serialLog: '/r/serial.log',
    commandConsole: { socket: '/r/console.sock', log: '/r/console.log' },
    nic: { tap: 'tap1', mac: '02:00:00:00:00:01', mtu: 1450 },
    incoming: 'unix:/r/incoming.sock',
  });
  const after = (flag: string) => argv[argv.indexOf(flag) + 1];
  assert.equal(argv[0], 'qemu-system-x86_64');
  assert.equal(after('-netdev'), 'tap,id=net0,ifname=tap1,script=no,downscript=no');
  const devices = argv.filter((_, i) => argv[i - 1] === '-device');
  assert.ok(
    devices.includes('virtio-net-pci,netdev=net0,mac=02:00:00:00:00:01,host_mtu=1450,romfile='),
    devices.join(' '),
  );
  assert.ok(
    devices.includes('virtserialport,chardev=console0,bus=vser0.0,nr=1,name=dvs.console'),
    'the command console is a virtio serial port',
  );
  assert.equal(after('-qmp'), 'unix:/r/qmp.sock,server=on,wait=off');
  assert.equal(after('-incoming'), 'unix:/r/incoming.sock');
  assert.equal(after('-accel'), 'tcg');
  assert.ok(argv.includes('-no-reboot') && argv.includes('-nographic') && !argv.includes('-bios'));
  const withFirmware = qemuCommand({
    name: 'x',
    kernel: '/k',
    initrd: '/i',
    kernelCommandLine: '',
    accel: 'tcg',
    memoryMb: 128,
    firmware: '/fw.rom',
  });
  assert.equal(withFirmware[withFirmware.indexOf('-bios') + 1], '/fw.rom');
  assert.throws(
    () => qemuCommand({ name: 'x', kernel: '/a,b', initrd: '/i', kernelCommandLine: '', accel: 'tcg', memoryMb: 128 }),
    (e: unknown) => isLabError(e, 'DVS_LAB_BAD_SPEC') && /contains a comma/.test(e.message),
  );
});
