// Health wired to two real data paths on the fake UDP underlay: probes travel
// inside real VXLAN / GRE-in-UDP packets through the data path's probe hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTunnelStatus, encodeTunnelStatus, isRecordError } from '@dvs/wire';
import { AgentHealth, type HealthCommandRegistry } from '../src/health/agent-health.js';
import { settle } from './frames.js';
import { FakeClock } from './health-fakes.js';
import { HOST_A, HOST_B, networkOnBoth, stopAll, twoHosts, type FakeHost } from './two-hosts.js';

type Registered = Parameters<HealthCommandRegistry['register']>[0];

function wire(
  host: FakeHost,
  name: string,
  clock: FakeClock,
  extra: Partial<ConstructorParameters<typeof AgentHealth>[0]> = {},
) {
  const commands = new Map<string, Registered>();
  const health = new AgentHealth({
    host: name,
    selfAddress: host.address,
    dataPath: host.dp,
    registry: { register: (c) => commands.set(c.name, c) },
    hostOf: (vtep) => (vtep.address === HOST_A ? 'host-a' : vtep.address === HOST_B ? 'host-b' : undefined),
    clock,
    ...extra,
  });
  return { health, commands };
}

async function run(clock: FakeClock, ms: number, ...healths: AgentHealth[]): Promise<void> {
  for (let t = 0; t < ms; t += 200) {
    clock.advance(200);
    for (const h of healths) h.monitor.tick();
    await settle(4);
  }
}

test('two agents bring their tunnel up over real VXLAN, and it goes down with "probe timeout" when the underlay drops packets', async () => {
  const { net, a, b } = twoHosts();
  const clock = new FakeClock();
  try {
    networkOnBoth(a, b, 100, 'vxlan');
    const ha = wire(a, 'host-a', clock);
    const hb = wire(b, 'host-b', clock);
    ha.health.refreshPeers();
    hb.health.refreshPeers();
    await run(clock, 4000, ha.health, hb.health);
    const up = ha.health.monitor.snapshots();
    assert.equal(up.length, 1);
    assert.deepEqual(
      [up[0].peer, up[0].host, up[0].encap, up[0].vni, up[0].state],
      [{ address: HOST_B, port: 4789 }, 'host-b', 'vxlan', 100, 'up'],
    );
    assert.equal(a.dp.counters().drops['probe-unhandled'] ?? 0, 0);
    assert.equal(b.dp.fdbEntries().length, 0, 'probes are never learned');

    net.filter = () => false; // the underlay breaks
    await run(clock, 3400, ha.health, hb.health);
    const down = ha.health.monitor.snapshots()[0];
    assert.equal(down.state, 'down');
    assert.equal(down.reason, 'probe timeout');

    net.filter = null;
    await run(clock, 4000, ha.health, hb.health);
    assert.equal(ha.health.monitor.snapshots()[0].state, 'up');
  } finally {
    stopAll(a, b);
  }
});

test('GRE-in-UDP networks are probed over GRE-in-UDP', async () => {
  const { a, b } = twoHosts();
  const clock = new FakeClock();
  try {
    networkOnBoth(a, b, 200, 'gre-udp');
    const ha = wire(a, 'host-a', clock);
    const hb = wire(b, 'host-b', clock);
    ha.health.refreshPeers();
    hb.health.refreshPeers();
    await run(clock, 4000, ha.health, hb.health);
    const s = ha.health.monitor.snapshots()[0];
    assert.deepEqual([s.peer.port, s.encap, s.state], [4754, 'gre-udp', 'up']);
    assert.ok(b.sockets['gre-udp'].localPort === 4754);
  } finally {
    stopAll(a, b);
  }
});

test('tunnels/show, metrics and the status record come from the same monitor; own VTEP skipped; external unmonitored', async () => {
  const { a, b } = twoHosts();
  const clock = new FakeClock();
  try {
    networkOnBoth(a, b, 100, 'vxlan');
    // Flood lists from the controller include the host itself and external VTEPs.
    a.dp.apply([
      {
        kind: 'flood:set',
        vni: 100,
        vteps: [
          { address: HOST_A, port: 4789 },
          { address: HOST_B, port: 4789 },
          { address: '203.0.113.9', port: 4789 },
        ],
      },
    ]);
    const changes: string[] = [];
    const ha = wire(a, 'host-a', clock, {
      isExternal: (v) => v.address === '203.0.113.9',
      onChange: (c) => changes.push(`${c.key} ${c.to} ${c.reason}`),
    });
    const hb = wire(b, 'host-b', clock);
    ha.health.refreshPeers();
    hb.health.refreshPeers();
    await run(clock, 4000, ha.health, hb.health);

    const show = ha.commands.get('tunnels/show');
    assert.ok(show);
    assert.deepEqual([show.minArgs, show.maxArgs], [0, 1]);
    const { text, data } = show.run([]) as {
      text: string;
      data: { peers: { vtep: { address: string }; state: string; txPackets: number }[] };
    };
    assert.deepEqual(
      data.peers.map((p) => [p.vtep.address, p.state]),
      [
        [HOST_B, 'up'],
        ['203.0.113.9', 'unmonitored'],
      ],
    );
    assert.ok(data.peers[0].txPackets > 0, 'data-path counters of the peer are merged');
    assert.match(text, /^PEER/m);
    assert.deepEqual(changes, [`${HOST_B}:4789/vxlan up replies received`]);

    const lines = ha.health.metricLines();
    assert.ok(lines.includes(`dvs_tunnel_up{peer="${HOST_B}:4789",encap="vxlan",peer_host="host-b"} 1`));
    const record = ha.health.statusRecord(clock.wall);
    const decoded = decodeTunnelStatus(encodeTunnelStatus(record));
    assert.ok(!isRecordError(decoded));
    assert.equal(decoded.host, 'host-a');
    assert.equal(decoded.peers.length, 2);
  } finally {
    stopAll(a, b);
  }
});

test('start() and stop() run and release the timers and the probe hook', async () => {
  const { a, b } = twoHosts();
  try {
    networkOnBoth(a, b, 100, 'vxlan');
    const ha = new AgentHealth({ host: 'host-a', selfAddress: HOST_A, dataPath: a.dp, intervalMs: 20 });
    const hb = new AgentHealth({ host: 'host-b', selfAddress: HOST_B, dataPath: b.dp, intervalMs: 20 });
    ha.start();
    hb.start();
    // Real timers: poll (never a wall-clock assertion) until the tunnel is up.
    for (let i = 0; i < 200 && ha.monitor.snapshots()[0]?.state !== 'up'; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(ha.monitor.snapshots()[0]?.state, 'up');
    ha.stop();
    hb.stop();
    const sent = a.dp.counters().peers[`${HOST_B}:4789`].txFrames;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(a.dp.counters().peers[`${HOST_B}:4789`].txFrames, sent, 'no probes after stop()');
  } finally {
    stopAll(a, b);
  }
});

test('the control plane names external VTEPs and peer hosts at run time: external peers become unmonitored at once', async () => {
  const { a, b } = twoHosts();
  const clock = new FakeClock();
  try {
    networkOnBoth(a, b, 100, 'vxlan');
    a.dp.apply([
      {
        kind: 'peers:set',
        vni: 100,
        vteps: [
          { address: HOST_B, port: 4789 },
          { address: '203.0.113.9', port: 4789 },
        ],
      },
    ]);
    const health = new AgentHealth({ host: 'host-a', selfAddress: HOST_A, dataPath: a.dp, clock });
    health.refreshPeers();
    const state = () => health.monitor.snapshots().map((s) => [s.peer.address, s.host, s.state]);
    assert.deepEqual(state(), [
      [HOST_B, null, 'init'],
      ['203.0.113.9', null, 'init'],
    ]);
    health.setExternalVteps([{ address: '203.0.113.9', port: 4789 }]);
    health.setPeerHosts([{ host: 'host-b', vtep: { address: HOST_B, port: 4789 } }]);
    assert.deepEqual(state(), [
      [HOST_B, 'host-b', 'init'],
      ['203.0.113.9', null, 'unmonitored'],
    ]);
    await run(clock, 10_000, health);
    assert.equal(health.monitor.snapshots()[1].state, 'unmonitored', 'never down');
  } finally {
    stopAll(a, b);
  }
});
