import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUdpNetwork } from '@dvs/netdev/testing';
import { Agent, validateConfig, type LogFields } from '../src/index.js';
import { FakeKernel } from './fake-devices.js';
import { BROADCAST, frame, mac, settle } from './frames.js';

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dva-life-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function get(url: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    })
      .on('error', reject)
      .end();
  });
}

const base = (dir: string, extra: Record<string, unknown> = {}) =>
  validateConfig({
    host: 'host-a',
    vtep: { address: '198.51.100.1' },
    adminSocket: join(dir, 'agent.sock'),
    stateFile: join(dir, 'agent-state.json'),
    networks: [{ vni: 100, peers: ['198.51.100.2'] }],
    ...extra,
  });

test('Prometheus endpoint serves drops, FDB and per-port counters', async () => {
  await withDir(async (dir) => {
    const kernel = new FakeKernel(new FakeUdpNetwork());
    const agent = new Agent({
      config: base(dir, { metrics: '127.0.0.1:0', ports: [{ name: 'vm1', vni: 100 }], health: { enabled: false } }),
      devices: kernel,
      dataPath: { agingTimer: false },
    });
    await agent.start();
    try {
      kernel.taps.get('vm1')?.inject(frame(BROADCAST, mac('02:00:00:00:00:01')), frame(BROADCAST, BROADCAST));
      await settle();
      const r = await get(`http://${agent.metricsListening}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.type, /^text\/plain; version=0\.0\.4/);
      assert.match(r.body, /^dvs_agent_drops_total\{host="host-a",reason="bad-src-mac"\} 1$/m);
      assert.match(r.body, /^dvs_agent_fdb_entries\{host="host-a",vni="100"\} 1$/m);
      assert.match(r.body, /^dvs_agent_port_rx_frames_total\{host="host-a",port="vm1"\} 2$/m);
      assert.match(r.body, /^dvs_agent_peer_tx_frames_total\{host="host-a",peer="198\.51\.100\.2:4789"\} 1$/m);
      assert.match(r.body, /^# TYPE dvs_agent_fdb_learns_total counter$/m);
      assert.match(
        r.body,
        /^dvs_agent_port_state\{host="host-a",port="vm1",kind="tap-created",device_kind="tap",state="up"\} 1$/m,
      );
      assert.match(r.body, /^dvs_agent_port_state\{host="host-a",port="vm1",.*state="gone"\} 0$/m);
      assert.match(r.body, /^dvs_agent_port_device_gone_total\{host="host-a",port="vm1"\} 0$/m);
      assert.match(r.body, /^dvs_agent_port_mtu_above_overlay\{host="host-a",port="vm1"\} 0$/m);
      assert.match(r.body, /^dvs_agent_state_file_write_errors_total\{host="host-a"\} 0$/m);
      assert.equal((await get(`http://${agent.metricsListening}/other`)).status, 404);
    } finally {
      await agent.stop();
    }
  });
});

test('a start that fails half-way leaves nothing open (sockets, TAPs, admin socket)', async () => {
  await withDir(async (dir) => {
    const net = new FakeUdpNetwork();
    const kernel = new FakeKernel(net);
    const agent = new Agent({
      config: base(dir, {
        ports: [
          { name: 'vm1', vni: 100 },
          { name: 'lo', vni: 100, plug: 'attach' },
        ],
      }),
      devices: kernel,
    });
    await assert.rejects(agent.start(), { code: 'DVS_DEVICE_UNSUITABLE', message: /lo is the loopback device/ });
    assert.equal(kernel.exists('vm1'), false, 'the TAP created before the failure is gone');
    await assert.rejects(stat(join(dir, 'agent.sock')), { code: 'ENOENT' });
    // The UDP ports are free again: binding them works.
    net.bind({ address: '198.51.100.1', port: 4789 }).close();
  });
});

test('aborting the start signal stops the agent; adopted TAPs stay, created ones go; MTU warning', async () => {
  await withDir(async (dir) => {
    const kernel = new FakeKernel(new FakeUdpNetwork());
    kernel.precreate('old0');
    const logs: [string, LogFields][] = [];
    const log = (msg: string, f?: LogFields) => logs.push([msg, f ?? {}]);
    const agent = new Agent({
      config: base(dir, {
        networks: [{ vni: 100, mtu: 1400, peers: ['198.51.100.2'] }],
        ports: [
          { name: 'new0', vni: 100 },
          { name: 'old0', vni: 100, plug: 'adopt' },
        ],
      }),
      devices: kernel,
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const controller = new AbortController();
    await agent.start({ signal: controller.signal });
    assert.equal(kernel.taps.get('new0')?.mtu, 1400, 'created TAP gets the overlay MTU');
    const warning = logs.find(([m]) => m.startsWith('port MTU is larger than the overlay MTU'));
    assert.deepEqual(warning?.[1], { port: 'old0', deviceMtu: 1500, overlayMtu: 1400 });
    controller.abort();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(kernel.exists('new0'), false);
    assert.equal(kernel.exists('old0'), true);
    assert.ok(kernel.taps.get('old0')?.closed, 'our fd of the adopted TAP is closed');
    await assert.rejects(stat(join(dir, 'agent.sock')), { code: 'ENOENT' });
    await assert.rejects(agent.start(), { code: 'DVS_AGENT_STATE' });
  });
});
