/**
 * Tunnel health end to end, seen through the real `dvs` binary: three agents
 * in network namespaces on one underlay bridge (static peers, no etcd), the
 * BFD-like probes running over real VXLAN. Breaking one host's underlay link
 * takes its tunnels down within interval × multiplier + 1 s with the reason;
 * restoring the link brings them back up.
 *
 *        ul: bridge
 *       /    |    \
 *     h1    h2    h3      198.51.100.11 / .12 / .13, VNI 100 (vxlan)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetnsLab } from '../support/netns-lab.js';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { waitFor } from '@dvs/test-support';
import { run, type RunResult } from '../support/run-command.js';
import { runDvs } from '../support/dvs-cli.js';
import type { TunnelsShowData } from '@dvs/wire';

/** The agent's defaults (tunnel health): probe every 1 s, down after 3 missed. */
const INTERVAL_MS = 1000;
const MULTIPLIER = 3;
const EXTERNAL = '203.0.113.9';

const lab = new NetnsLab('dvh');
const hosts = [1, 2, 3].map((i) => ({
  name: `host-${i}`,
  address: `198.51.100.1${i}`,
  ns: '',
  dev: lab.name(`h${i}`),
}));
const agents: AgentProcess[] = [];

type TunnelsShow = TunnelsShowData;

function dvs(...args: string[]): Promise<RunResult> {
  return runDvs(args);
}

async function tunnels(i: number): Promise<TunnelsShow> {
  const r = await dvs('agent', 'tunnels', '--socket', agents[i].socket, '--json');
  assert.ok(r.code === 0 || r.code === 1, `dvs agent tunnels: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as TunnelsShow;
}

function peerOf(show: TunnelsShow, address: string) {
  const p = show.peers.find((x) => x.vtep.address === address);
  assert.ok(p, `no tunnel to ${address} in ${JSON.stringify(show)}`);
  return p;
}

before(async () => {
  const ul = await lab.netns('ul');
  const bridge = lab.name('br');
  await run(['ip', '-n', ul, 'link', 'add', bridge, 'type', 'bridge']);
  await run(['ip', '-n', ul, 'link', 'set', bridge, 'up']);
  for (const [i, h] of hosts.entries()) {
    h.ns = await lab.netns(`n${i + 1}`);
    const port = lab.name(`u${i + 1}`);
    await lab.veth(h.ns, h.dev, `${h.address}/24`, ul, port, null);
    await run(['ip', '-n', ul, 'link', 'set', port, 'master', bridge]);
  }
  for (const h of hosts) agents.push(await startHostAgent(h));
});

function startHostAgent(h: (typeof hosts)[number]): Promise<AgentProcess> {
  const peers = hosts.filter((o) => o !== h).map((o) => o.address);
  return startAgent(lab, h.ns, h.name, {
    host: h.name,
    vtep: { address: h.address },
    // host-1 also lists an external VTEP (a kernel vxlan device elsewhere): never probed.
    networks: [
      { vni: 100, encap: 'vxlan', mtu: 1450, peers, ...(h === hosts[0] ? { externalVteps: [EXTERNAL] } : {}) },
    ],
    // Prometheus endpoint on the host namespace's loopback.
    metrics: '127.0.0.1:9464',
  });
}

after(async () => {
  for (const a of agents) a.admin.close();
  await lab.cleanup();
});

test('every tunnel comes up; dvs agent tunnels shows it in text and JSON; /metrics has the tunnel gauges', async () => {
  for (const [i, h] of hosts.entries()) {
    await waitFor(
      `${h.name}: both tunnels up`,
      async () => {
        const show = await tunnels(i);
        const probed = show.peers.filter((p) => p.vtep.address !== EXTERNAL);
        return probed.length === 2 && probed.every((p) => p.state === 'up');
      },
      20_000,
      200,
    );
  }
  const show = await tunnels(0);
  assert.equal(show.host, 'host-1');
  assert.equal(show.intervalMs, INTERVAL_MS);
  assert.equal(show.multiplier, MULTIPLIER);
  const toH2 = peerOf(show, hosts[1].address);
  assert.deepEqual([toH2.vtep.port, toH2.encap, toH2.reason], [4789, 'vxlan', 'replies received']);
  assert.ok(toH2.rtt !== null && toH2.rtt.avgMs >= 0 && toH2.rtt.p99Ms >= toH2.rtt.avgMs - 1e-9);
  const external = peerOf(show, EXTERNAL);
  assert.deepEqual([external.state, external.reason, external.host], ['unmonitored', 'external peer', null]);
  const text = await dvs('agent', 'tunnels', '--socket', agents[0].socket);
  assert.equal(text.code, 0, `an unmonitored peer is not a problem: ${text.stderr}`);
  assert.match(
    text.stdout,
    /^203\.0\.113\.9:4789\s+\(external\)\s+vxlan\s+unmonitored\s+-\s+-\s+\S+\s+external peer$/m,
  );
  const scrape = `fetch('http://127.0.0.1:9464/metrics').then(async (r) => console.log(await r.text()))`;
  const metrics = (await lab.exec(hosts[0].ns, [process.execPath, '-e', scrape])).stdout;
  assert.match(metrics, /^dvs_tunnel_up\{peer="198\.51\.100\.12:4789",encap="vxlan",peer_host=""\} 1$/m);
  assert.match(
    metrics,
    /^dvs_tunnel_rtt_seconds\{peer="198\.51\.100\.13:4789",encap="vxlan",peer_host="",stat="p99"\} [0-9.e-]+$/m,
  );
  assert.match(text.stdout, /^PEER\s+HOST\s+ENCAP\s+STATE\s+RTT ms last\/avg\/p99\s+LOSS\s+SINCE\s+REASON$/m);
  assert.match(
    text.stdout,
    /^198\.51\.100\.12:4789\s+\S+\s+vxlan\s+up\s+[\d.]+\/[\d.]+\/[\d.]+\s+[\d.]+%\s+\S+\s+replies received/m,
  );
});

test("breaking host-3's underlay link takes its tunnels down within interval × multiplier + 1 s, with the reason; restoring brings them up", async () => {
  const h3 = hosts[2];
  const brokenAt = Date.now();
  await run(['ip', '-n', h3.ns, 'link', 'set', h3.dev, 'down']);

  // host-1 sees host-3 stop answering: probe timeout.
  const seen = await waitFor(
    'host-1: tunnel to host-3 down',
    async () => {
      const p = peerOf(await tunnels(0), h3.address);
      return p.state === 'down' ? p : undefined;
    },
    30_000,
    200,
  );
  assert.equal(seen.reason, 'probe timeout');
  const detectedAfter = seen.lastChange - brokenAt;
  console.log(
    `# host-1 declared host-3 down ${detectedAfter} ms after the link broke (limit ${INTERVAL_MS * MULTIPLIER + 1000} ms)`,
  );
  assert.ok(detectedAfter <= INTERVAL_MS * MULTIPLIER + 1000, `detected after ${detectedAfter} ms`);
  assert.equal(peerOf(await tunnels(0), hosts[1].address).state, 'up', 'the other tunnel is untouched');

  // The CLI: exit 1 (a problem found), the down row on top with its reason.
  const text = await dvs('agent', 'tunnels', '--socket', agents[0].socket);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^198\.51\.100\.13:4789\s+\S+\s+vxlan\s+down\s.*probe timeout/m);

  // host-3 itself has lost its route: down too, for a reason of its own.
  const own = await waitFor(
    'host-3: its tunnels down',
    async () => {
      const show = await tunnels(2);
      return show.peers.every((p) => p.state === 'down') ? show : undefined;
    },
    30_000,
    200,
  );
  for (const p of own.peers) assert.match(p.reason, /^(no route|send failed|probe timeout)$/);

  await run(['ip', '-n', h3.ns, 'link', 'set', h3.dev, 'up']);
  const back = await waitFor(
    'host-1: tunnel to host-3 up again',
    async () => {
      const p = peerOf(await tunnels(0), h3.address);
      return p.state === 'up' ? p : undefined;
    },
    30_000,
    200,
  );
  assert.equal(back.reason, 'replies received');
  assert.ok(back.lastChange > seen.lastChange);
  const ok = await dvs('agent', 'tunnels', '--socket', agents[0].socket);
  assert.equal(ok.code, 0);
});

test('a restarted agent (new probe session) is reported as "peer restarted" by its peers, then comes back up', async () => {
  const h2 = hosts[1];
  await agents[1].stop();
  agents[1] = await startHostAgent(h2);
  // Poll the admin socket directly: the init window lasts about upAfter intervals.
  const restarted = await waitFor(
    'host-1: tunnel to host-2 restarted',
    async () => {
      const p = peerOf(await agents[0].call('tunnels/show'), h2.address);
      return p.reason === 'peer restarted' ? p : undefined;
    },
    30_000,
    50,
  );
  assert.equal(restarted.state, 'init');
  const up = await waitFor(
    'host-1: tunnel to host-2 up again',
    async () => {
      const p = peerOf(await tunnels(0), h2.address);
      return p.state === 'up' ? p : undefined;
    },
    30_000,
    200,
  );
  assert.equal(up.reason, 'replies received');
});
