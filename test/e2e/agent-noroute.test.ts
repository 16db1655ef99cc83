/**
 * `no route` on a real host: a dvs-agent in a namespace whose only underlay
 * is a veth pair of its own (198.51.100.1/24 on one end, no default route)
 * probes two peers over
 * its real native VXLAN socket:
 *  - 203.0.113.2 has no route: the kernel refuses every probe (ENETUNREACH),
 *    the native socket reports it, and the tunnel goes down with `no route`;
 *  - 198.51.100.2 is on the link: probes leave but nobody answers, so that
 *    tunnel goes down with `probe timeout` — the two failures stay apart.
 * The same agent answers the real `dvs trace` binary from its data path.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { NetnsLab } from '../support/netns-lab.js';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { waitFor } from '@dvs/test-support';
import { run } from '../support/run-command.js';

const DVS = fileURLToPath(new URL('../../../packages/cli/dist/src/main.js', import.meta.url));
const lab = new NetnsLab('dvt');
let agent: AgentProcess;
let tap: string;

before(async () => {
  const host = await lab.netns('nr');
  const [underlay, far] = [lab.name('ul'), lab.name('uf')];
  await run(['ip', '-n', host, 'link', 'add', underlay, 'type', 'veth', 'peer', 'name', far]);
  await run(['ip', '-n', host, 'addr', 'add', '198.51.100.1/24', 'dev', underlay]);
  await run(['ip', '-n', host, 'link', 'set', underlay, 'up']);
  await run(['ip', '-n', host, 'link', 'set', far, 'up']);
  tap = lab.name('t1');
  agent = await startAgent(lab, host, 'agent-nr', {
    host: 'host-nr',
    vtep: { address: '198.51.100.1' },
    health: { intervalMs: 200, multiplier: 3 },
    networks: [{ vni: 100, mtu: 1450, peers: ['203.0.113.2', '198.51.100.2'] }],
    ports: [{ name: tap, vni: 100 }],
  });
});

after(async () => {
  await agent?.stop();
  await lab.cleanup();
});

test('a peer without a route is down with reason "no route"; an unanswering one with "probe timeout"', async () => {
  const peers = await waitFor(
    'both tunnels down',
    async () => {
      const show = await agent.call('tunnels/show');
      return show.peers.length === 2 && show.peers.every((p) => p.state === 'down') ? show.peers : undefined;
    },
    20_000,
    100,
  );
  const reasonOf = (address: string) => peers.find((p) => p.vtep.address === address)?.reason;
  assert.equal(reasonOf('203.0.113.2'), 'no route');
  assert.equal(reasonOf('198.51.100.2'), 'probe timeout');
  const counters = await agent.call('counters/show');
  assert.equal(counters.peers['203.0.113.2:4789'].txFrames, 0, 'no probe counted as sent to the unroutable peer');
  assert.ok(counters.peers['203.0.113.2:4789'].txDrops > 0);
  assert.ok(counters.peers['198.51.100.2:4789'].txFrames > 0);
});

test("dvs trace --socket explains a broadcast from the agent's data path: a VXLAN copy per peer, header bytes", async () => {
  const args = ['trace', '--vni', '100', '--src', '02:00:00:00:00:01', '--dst', 'ff:ff:ff:ff:ff:ff'];
  const json = await run([process.execPath, DVS, ...args, '--socket', agent.socket, '--port', tap, '--json']);
  const body = JSON.parse(json.stdout) as {
    source: string;
    host: string;
    decision: { action: string; outputs: { kind: string; vtep?: string; udpPort?: number; tunnelHeader?: string }[] };
  };
  assert.equal(body.source, `data path (agent ${agent.socket})`);
  assert.equal(body.host, 'host-nr');
  assert.equal(body.decision.action, 'flood');
  assert.deepEqual(body.decision.outputs.map((o) => `${o.kind} ${o.vtep} ${o.udpPort} ${o.tunnelHeader}`).sort(), [
    'vtep 198.51.100.2:4789 4789 0800000000006400',
    'vtep 203.0.113.2:4789 4789 0800000000006400',
  ]);
  const text = await run([process.execPath, DVS, ...args, '--socket', agent.socket, '--port', tap]);
  assert.match(
    text.stdout,
    new RegExp(`^source: data path \\(agent ${agent.socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'),
  );
  assert.match(text.stdout, new RegExp(`access port ${tap}: untagged → VNI 100`));
  assert.equal((await agent.call('fdb/show')).length, 0, 'trace learned nothing');
});
