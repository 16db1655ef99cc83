/**
 * The operator's path through a real cluster, with the real `dvs` binary:
 * etcd and dvs-controller in an underlay namespace, three agents in host
 * namespaces syncing through etcd (no static peers), a TAP per host used as a
 * VM NIC by the host's own kernel. `dvs status` → `dvs hosts` → `dvs tunnels`
 * → `dvs fdb --mac` → `dvs trace`, in text and JSON; a broken underlay link
 * shows up in `dvs tunnels` and `dvs status` with its reason, and clears.
 *
 *            ul: bridge 198.51.100.1 (etcd :2379, controller :7400, dvs)
 *           /       |       \
 *         n1       n2       n3     198.51.100.11/12/13, TAP t<i> 192.0.2.1<i>/24 in VNI 100
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { NetnsLab } from '../support/netns-lab.js';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { waitFor } from '@dvs/test-support';
import { run } from '../support/run-command.js';

const DVS = fileURLToPath(new URL('../../../packages/cli/dist/src/main.js', import.meta.url));
const CONTROLLER = fileURLToPath(new URL('../../../packages/controller/dist/src/main.js', import.meta.url));
const UNDERLAY = '198.51.100.1';
const ETCD_URL = `http://${UNDERLAY}:2379`;
const CONTROLLER_URL = `https://${UNDERLAY}:7400`;
const MAKE_API_CERTS = fileURLToPath(new URL('../../../deploy/api/make-api-certs.sh', import.meta.url));
/** The API's CA and an operator token file (set up in before()). */
let apiEnv: string[] = [];
const DETECT_MS = 1000 * 3;
const EXTERNAL = '203.0.113.9';

const lab = new NetnsLab('dvh');
let ul = '';
const hosts = [1, 2, 3].map((i) => ({
  name: `host-${i}`,
  address: `198.51.100.1${i}`,
  ns: '',
  uplink: lab.name(`h${i}`),
  tap: lab.name(`t${i}`),
  vmAddress: `192.0.2.1${i}`,
  mac: '',
}));
const agents: AgentProcess[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `dvs …` inside the underlay namespace, where the controller listens. */
async function dvs(...args: string[]): Promise<Run> {
  return run(
    ['ip', 'netns', 'exec', ul, 'env', `DVS_CONTROLLER=${CONTROLLER_URL}`, ...apiEnv, process.execPath, DVS, ...args],
    {
      allowFailure: true,
      timeoutMs: 20_000,
    },
  );
}

async function dvsJson<T>(...args: string[]): Promise<T> {
  const r = await dvs(...args, '--json');
  assert.ok(r.code === 0 || r.code === 1, `dvs ${args.join(' ')} --json: exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface TunnelRow {
  host: string;
  peer: { address: string; port: number };
  peerHost: string | null;
  state: string;
  reason: string;
  lastChange: number;
}

async function tunnelRows(): Promise<TunnelRow[]> {
  return (await dvsJson<{ tunnels: TunnelRow[] }>('tunnels')).tunnels;
}

before(async () => {
  const dir = await lab.tempDir();
  ul = await lab.netns('ul');
  const bridge = lab.name('br');
  await run(['ip', '-n', ul, 'link', 'add', bridge, 'type', 'bridge']);
  await run(['ip', '-n', ul, 'addr', 'add', `${UNDERLAY}/24`, 'dev', bridge]);
  await run(['ip', '-n', ul, 'link', 'set', bridge, 'up']);
  for (const [i, h] of hosts.entries()) {
    h.ns = await lab.netns(`n${i + 1}`);
    const port = lab.name(`u${i + 1}`);
    await lab.veth(h.ns, h.uplink, `${h.address}/24`, ul, port, null);
    await run(['ip', '-n', ul, 'link', 'set', port, 'master', bridge]);
  }
  const peer = 'http://127.0.0.1:2380';
  const etcd = lab.spawn(
    ul,
    [
      '/usr/bin/etcd',
      '--name',
      'dvh',
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      ETCD_URL,
      '--advertise-client-urls',
      ETCD_URL,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `dvh=${peer}`,
      '--log-level',
      'warn',
      '--logger',
      'zap',
    ],
    join(dir, 'etcd.log'),
  );
  await waitFor(
    'etcd healthy',
    async () => {
      if (etcd.exitCode !== null) throw new Error(`etcd exited: ${await readFile(join(dir, 'etcd.log'), 'utf8')}`);
      const probe = `fetch('${ETCD_URL}/health').then(async (r) => console.log(await r.text()), () => console.log('down'))`;
      const r = await lab.exec(ul, [process.execPath, '-e', probe], { allowFailure: true });
      return r.stdout.includes('"health":"true"');
    },
    20_000,
    100,
  );
  // The API on the underlay address: HTTPS with an operator token, as deployed.
  const pki = join(dir, 'api-pki');
  await run(['bash', MAKE_API_CERTS, pki, UNDERLAY]);
  await writeFile(join(dir, 'api-tokens'), `e2e operator ${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  const opsToken = (await readFile(join(dir, 'api-tokens'), 'utf8')).split(' ')[2]!.trim();
  await writeFile(join(dir, 'ops.token'), opsToken, { mode: 0o600 });
  apiEnv = [`DVS_CACERT=${join(pki, 'api-ca.pem')}`, `DVS_TOKEN_FILE=${join(dir, 'ops.token')}`];
  const controllerLog = join(dir, 'controller.log');
  const controller = lab.spawn(
    ul,
    [
      ...[process.execPath, CONTROLLER, '--etcd', ETCD_URL, '--listen', `${UNDERLAY}:7400`, '--id', 'ctl-e2e'],
      ...['--tls-cert', join(pki, 'controller-api.pem'), '--tls-key', join(pki, 'controller-api-key.pem')],
      ...['--api-tokens', join(dir, 'api-tokens')],
    ],
    controllerLog,
  );
  await waitFor(
    'controller leader',
    async () => {
      if (controller.exitCode !== null) throw new Error(`controller exited: ${await readFile(controllerLog, 'utf8')}`);
      const r = await dvs('status', '--json');
      return r.code === 0 && (JSON.parse(r.stdout) as { controller: { leader: boolean } }).controller.leader;
    },
    20_000,
    200,
  );

  // The network also lists an external VTEP (a kernel vxlan device elsewhere): listed, never probed.
  const created = await dvs('networks', 'create', '--vni', '100', '--name', 'blue', '--external-vtep', EXTERNAL);
  assert.equal(created.code, 0, created.stderr);

  for (const h of hosts) {
    agents.push(
      await startAgent(lab, h.ns, h.name, {
        host: h.name,
        vtep: { address: h.address },
        ports: [{ name: h.tap, vni: 100 }],
        etcd: { endpoints: [ETCD_URL] },
      }),
    );
    // The host's kernel is the VM behind the TAP.
    await run(['ip', '-n', h.ns, 'addr', 'add', `${h.vmAddress}/24`, 'dev', h.tap]);
    await run(['ip', '-n', h.ns, 'link', 'set', h.tap, 'up']);
    h.mac = (await lab.exec(h.ns, ['cat', `/sys/class/net/${h.tap}/address`])).stdout.trim();
  }
});

after(async () => {
  for (const a of agents) a.admin.close();
  await lab.cleanup();
});

test('dvs hosts and dvs status: three hosts up, no problems', async () => {
  const hostsJson = await waitFor(
    'three hosts up',
    async () => {
      const r = await dvsJson<{ hosts: { host: string; state: string; vtep: { address: string } }[] }>('hosts');
      return r.hosts.filter((h) => h.state === 'up').length === 3 ? r : undefined;
    },
    20_000,
    250,
  );
  assert.deepEqual(
    hostsJson.hosts.map((h) => [h.host, h.vtep.address]),
    hosts.map((h) => [h.name, h.address]),
  );
  const text = await dvs('hosts');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^host-1\s+up\s+\S+ ago\s+198\.51\.100\.11:4789\s+\S+\s+1\s+\d+\s+\S+\s+-$/m);
  const status = await waitFor(
    'status without problems',
    async () => {
      const r = await dvs('status');
      return r.code === 0 ? r : undefined;
    },
    20_000,
    250,
  );
  assert.match(status.stdout, /^no problems$/m);
  assert.match(status.stdout, /^hosts: {5}3 up, 0 stale, 0 down$/m);
});

/** Tunnels between dvs hosts (the external VTEP's rows left out). */
const probed = (rows: TunnelRow[]) => rows.filter((t) => t.peer.address !== EXTERNAL);

test('dvs tunnels: one row per (host, peer), all up, the external VTEP unmonitored, in text and JSON', async () => {
  const all = await waitFor(
    'six tunnels up, three unmonitored',
    async () => {
      const r = await tunnelRows();
      const external = r.filter((t) => t.peer.address === EXTERNAL);
      const ok = probed(r).length === 6 && probed(r).every((t) => t.state === 'up');
      return ok && external.length === 3 && external.every((t) => t.state === 'unmonitored') ? r : undefined;
    },
    30_000,
    250,
  );
  const rows = probed(all);
  for (const t of all.filter((x) => x.peer.address === EXTERNAL)) {
    assert.deepEqual([t.peerHost, t.reason], [null, 'external peer']);
  }
  for (const h of hosts) {
    const mine = rows
      .filter((t) => t.host === h.name)
      .map((t) => t.peer.address)
      .sort();
    assert.deepEqual(
      mine,
      hosts.filter((o) => o !== h).map((o) => o.address),
    );
  }
  assert.ok(
    rows.every((t) => t.peerHost !== null && t.peerHost.startsWith('host-')),
    JSON.stringify(rows),
  );
  const text = await dvs('tunnels', '--host', 'host-1');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^host-1\s+198\.51\.100\.12:4789\s+host-2\s+vxlan\s+up\s/m);
  assert.match(text.stdout, /^host-1\s+203\.0\.113\.9:4789\s+\(external\)\s+vxlan\s+unmonitored\s/m);
  assert.match(text.stdout, /^3 tunnel\(s\): 2 up, 0 down/m);
});

test("VMs talk; dvs fdb --mac finds each MAC on its host; dvs trace runs the path through host-1's data path", async () => {
  await lab.exec(hosts[0].ns, ['ping', '-c', '3', '-i', '0.2', '-W', '2', hosts[1].vmAddress]);
  const entry = await waitFor(
    'host-2 MAC in the FDB',
    async () => {
      const r = await dvsJson<{ entries: { mac: string; host: string; vni: number; seq: number }[] }>(
        'fdb',
        '--mac',
        hosts[1].mac,
      );
      return r.entries[0];
    },
    20_000,
    250,
  );
  assert.deepEqual([entry.mac, entry.host, entry.vni], [hosts[1].mac, 'host-2', 100]);
  const text = await dvs('fdb', '--mac', hosts[1].mac);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^100\\s+${hosts[1].mac}\\s+host-2\\s+198\\.51\\.100\\.12:4789\\s`, 'm'));

  await waitFor('host-1 MAC in the FDB', async () => (await dvs('fdb', '--mac', hosts[0].mac)).code === 0, 20_000, 250);
  const trace = await dvs(
    'trace',
    '--vni',
    '100',
    '--src',
    hosts[0].mac,
    '--dst',
    hosts[1].mac,
    '--socket',
    agents[0].socket,
    '--port',
    hosts[0].tap,
  );
  assert.equal(trace.code, 0, trace.stderr);
  assert.match(trace.stdout, new RegExp(`^1\\. classify\\s+access port ${hosts[0].tap}: untagged → VNI 100$`, 'm'));
  assert.match(trace.stdout, /^decision: encap: destination behind VTEP 198\.51\.100\.12:4789$/m);
  // The outer source port is the flow's port of the socket's pool (RFC 7348 §5), named in the output step too.
  const out = /→ vxlan 198\.51\.100\.12:4789 udp (\d+)→4789 header 0800000000006400$/m.exec(trace.stdout);
  assert.ok(out, trace.stdout);
  assert.match(
    trace.stdout,
    new RegExp(`^6\\. output\\s+vxlan to 198\\.51\\.100\\.12:4789 \\(UDP ${out[1]} → 4789,`, 'm'),
  );
});

test("host views through host-1's admin socket: ports, FDB, peers, any command; trace answers from the agent's data path", async () => {
  const socket = agents[0].socket;
  const ports = await dvs('agent', 'ports', '--socket', socket);
  assert.equal(ports.code, 0, ports.stderr);
  assert.match(ports.stdout, new RegExp(hosts[0].tap));
  const fdb = await dvsJson<{ mac: string; kind: string; location: string }[]>(
    'agent',
    'fdb',
    '100',
    '--socket',
    socket,
  );
  const remote = fdb.find((e) => e.mac === hosts[1].mac);
  assert.deepEqual(remote && [remote.kind, remote.location], ['vtep', '198.51.100.12:4789']);
  const peers = await dvs('agent', 'peers', '--socket', socket, '--json');
  assert.equal(peers.code, 0, peers.stderr);
  assert.match(peers.stdout, /198\.51\.100\.12/);
  const list = await dvs('agent', 'call', 'list-commands', '--socket', socket);
  assert.match(list.stdout, /^tunnels\/show/m);
  const unknown = await dvs('agent', 'call', 'no/such', '--socket', socket);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^dvs: agent: .*no\/such.*\(DVS_UNKNOWN_COMMAND\)\n$/);

  // The agent answers `trace` by running the frame through its own data path.
  const trace = await dvsJson<{
    source: string;
    host: string;
    decision: { action: string; outputs: { kind: string; vtep?: string }[] };
  }>('trace', '--vni', '100', '--src', hosts[0].mac, '--dst', hosts[1].mac, '--socket', socket);
  assert.match(trace.source, /^data path \(agent .*\)$/);
  assert.equal(trace.host, 'host-1');
  assert.equal(trace.decision.action, 'encap');
  assert.deepEqual(
    trace.decision.outputs.map((o) => `${o.kind} ${o.vtep}`),
    ['vtep 198.51.100.12:4789'],
    'one copy, to host-2',
  );
});

test("a broken underlay link: dvs tunnels shows host-3's tunnels down within interval × multiplier + 1 s, with the reason; dvs status reports it; restored, they come back", async () => {
  const h3 = hosts[2];
  const brokenAt = Date.now();
  await run(['ip', '-n', h3.ns, 'link', 'set', h3.uplink, 'down']);
  const down = await waitFor(
    'host-1 → host-3 down in dvs tunnels',
    async () => {
      const row = (await tunnelRows()).find((t) => t.host === 'host-1' && t.peer.address === h3.address);
      return row?.state === 'down' ? row : undefined;
    },
    30_000,
    200,
  );
  const detectedAfter = down.lastChange - brokenAt;
  console.log(`# host-1 declared host-3 down ${detectedAfter} ms after the link broke (limit ${DETECT_MS + 1000} ms)`);
  assert.ok(detectedAfter <= DETECT_MS + 1000, `detected after ${detectedAfter} ms`);
  assert.equal(down.reason, 'probe timeout');

  const text = await dvs('tunnels');
  assert.equal(text.code, 1, 'a tunnel down is a problem found');
  assert.match(text.stdout.split('\n')[1], /\sdown\s.*(probe timeout|peer removed)$/, 'down rows first');
  const status = await dvs('status');
  assert.equal(status.code, 1);
  assert.match(status.stdout, /^PROBLEMS \(\d+\)$/m);
  assert.match(status.stdout, /^ {2}(tunnel-down|host-down)\s/m);

  await run(['ip', '-n', h3.ns, 'link', 'set', h3.uplink, 'up']);
  await waitFor(
    'every tunnel up again',
    async () => {
      const rows = await tunnelRows();
      return probed(rows).length === 6 && probed(rows).every((t) => t.state === 'up');
    },
    60_000,
    250,
  );
  const ok = await waitFor(
    'status clean again',
    async () => {
      const r = await dvs('status');
      return r.code === 0 ? r : undefined;
    },
    30_000,
    250,
  );
  assert.match(ok.stdout, /^no problems$/m);
});
