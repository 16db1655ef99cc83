// Port mirroring in the namespace lab, with real etcd, the controller and two
// agents, configured with `dvs mirrors` and watched by tcpdump (not ours)
// inside the analyser VMs:
//  - SPAN: both directions of vm A's port to vm B on the same host: B sees
//    exactly A's frames (every frame it gets has A's MAC on one side), among
//    them each of A's N pings and their N replies, at their sizes
//  - RSPAN: A's ingress to vm D on the other host, inside mirror VNI 9999:
//    D sees exactly A's N echo requests, and nothing that A did not send
//  - bad input names the field and changes nothing
//  - deleted: no more copies, the counters stop, the analyser port is
//    switched again
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmState } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { runDvs } from '../support/dvs-cli.js';
import { run } from '../support/run-command.js';
import { waitPidExit } from '../support/lab-vms.js';
import { useLab } from '../support/use-lab.js';

const PINGS = 5;
/** ICMP payload: each echo is 14 + 20 + 8 + 300 = 342 bytes on the wire. */
const PAYLOAD = 300;
const FRAME = 14 + 20 + 8 + PAYLOAD;
const MIRROR_VNI = 9999;
const lab = useLab({ hosts: 2, vmsPerHost: 2, kernelHosts: 0, networks: [{ vni: 100, encap: 'vxlan' }] });
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dvs-mirror-'));
});

// After the lab's own teardown (hooks run in the order they are added).
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vmsOn = (host: string): VmState[] => lab().state.vms.filter((v) => v.host === host);
const dvs = (args: string[]) =>
  runDvs(['--lab', lab().id, ...args], process.env.DVS_LAB_DIR ? { DVS_LAB_DIR: process.env.DVS_LAB_DIR } : {});

interface Frame {
  src: string;
  dst: string;
  length: number;
  echo: 'request' | 'reply' | null;
}

/** The frames tcpdump has written to `file` so far (it writes each one as it comes: -U). */
async function framesIn(file: string): Promise<Frame[]> {
  const r = await run(['tcpdump', '-r', file, '-n', '-e'], { allowFailure: true });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = /^\S+ (\S+) > (\S+), .*?length (\d+):/.exec(line);
      assert.ok(m, `tcpdump line: ${line}`);
      const echo = /ICMP echo request/.test(line) ? 'request' : /ICMP echo reply/.test(line) ? 'reply' : null;
      return { src: m[1]!, dst: m[2]!, length: Number(m[3]), echo };
    });
}

/**
 * tcpdump in `vm`'s namespace, capturing what its interface receives (not what it sends) into a file.
 * frames() reads what it has captured so far; stop() ends it (a frame it has not read by then is lost:
 * wait on frames() first) and returns every frame it captured.
 */
async function capture(
  vm: VmState,
  name: string,
): Promise<{ frames: () => Promise<Frame[]>; stop: () => Promise<Frame[]> }> {
  const file = join(dir, `${name}.pcap`);
  const ns = lab().namespaceOf(vm.name);
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns, 'tcpdump', '--immediate-mode', '-i', vm.ifname, '-Q', 'in', '-U', '-n', '-w', file],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await waitFor(`tcpdump listening in ${vm.name}`, () => stderr.includes('listening on'), 10_000, 50);
  return {
    frames: () => framesIn(file),
    stop: async () => {
      child.kill('SIGINT');
      await waitPidExit(child.pid!);
      return framesIn(file);
    },
  };
}

async function ping(from: VmState, to: VmState): Promise<void> {
  const r = await lab().exec(
    from.name,
    ['ping', '-c', String(PINGS), '-i', '0.2', '-s', String(PAYLOAD), '-q', to.address],
    {
      timeoutMs: 20_000,
    },
  );
  assert.equal(r.code, 0, `ping ${from.name} → ${to.name}: ${r.stdout}${r.stderr}`);
}

async function mirrorsOn(host: string) {
  return (await lab().admin(host).call('mirrors/show')).data;
}

test('SPAN and RSPAN by dvs mirrors: the analysers see exactly the mirrored frames; bad input changes nothing; deleted, nothing is left', async () => {
  const [a, b] = vmsOn('h1');
  const [c, d] = vmsOn('h2');
  assert.ok(a && b && c && d, 'two VMs per host');
  await ping(a, c); // warm: ARP resolved, MACs learned

  // SPAN: both directions of A to B.
  const span = await dvs([
    'mirrors',
    'create',
    '--name',
    'span1',
    '--source',
    `h1/${a.ifname}`,
    '--output',
    `h1/${b.ifname}`,
    '--json',
  ]);
  assert.equal(span.code, 0, span.stderr);
  // RSPAN: A's ingress to D on h2, in the mirror VNI.
  const rspan = await dvs([
    'mirrors',
    'create',
    '--name',
    'rspan1',
    '--source',
    `h1/${a.ifname}`,
    '--direction',
    'ingress',
    '--output',
    `h2/${d.ifname}`,
    '--vni',
    String(MIRROR_VNI),
    '--json',
  ]);
  assert.equal(rspan.code, 0, rspan.stderr);
  await waitFor(
    'both agents follow the mirrors',
    async () => {
      const h1 = await mirrorsOn('h1');
      const h2 = await mirrorsOn('h2');
      return (
        h1.some((m) => m.name === 'span1' && m.output.kind === 'port' && m.output.present) &&
        h1.some((m) => m.name === 'rspan1' && m.output.kind === 'rspan') &&
        h2.some((m) => m.output.kind === 'sink' && m.output.vni === MIRROR_VNI && m.output.present)
      );
    },
    15_000,
    100,
  );

  const atB = await capture(b, 'span');
  const atD = await capture(d, 'rspan');
  await ping(a, c);
  // The copies reach the analysers' captures (RSPAN through h2's sink) some time after the pings
  // are answered; each is in before the captures stop (the counts below then catch any extra copy).
  await waitFor(
    'the analysers captured the copies',
    async () => {
      const [nowB, nowD] = [await atB.frames(), await atD.frames()];
      return (
        nowB.filter((f) => f.echo === 'request' && f.src === a.mac).length >= PINGS &&
        nowB.filter((f) => f.echo === 'reply' && f.dst === a.mac).length >= PINGS &&
        nowD.filter((f) => f.echo === 'request').length >= PINGS
      );
    },
    15_000,
    100,
  );
  const seenB = await atB.stop();
  const seenD = await atD.stop();

  const ofA = (f: Frame): boolean => f.src === a.mac || f.dst === a.mac;
  assert.deepEqual(
    seenB.filter((f) => !ofA(f)),
    [],
    'SPAN: nothing but the frames of A',
  );
  const requestsB = seenB.filter((f) => f.echo === 'request' && f.src === a.mac);
  const repliesB = seenB.filter((f) => f.echo === 'reply' && f.dst === a.mac);
  assert.equal(requestsB.length, PINGS, 'each echo request A sent');
  assert.equal(repliesB.length, PINGS, 'each echo reply A got');
  assert.equal(
    [...requestsB, ...repliesB].reduce((n, f) => n + f.length, 0),
    2 * PINGS * FRAME,
    'byte for byte in length',
  );
  assert.deepEqual(
    seenD.filter((f) => f.src !== a.mac),
    [],
    'RSPAN ingress: nothing A did not send',
  );
  const requestsD = seenD.filter((f) => f.echo === 'request');
  assert.equal(requestsD.length, PINGS, 'each echo request A sent, on the other host');
  assert.equal(
    requestsD.reduce((n, f) => n + f.length, 0),
    PINGS * FRAME,
  );
  const h1 = await mirrorsOn('h1');
  const h2 = await mirrorsOn('h2');
  console.log(
    `# mirrored: SPAN ${h1.find((m) => m.name === 'span1')!.mirrored} copies, RSPAN ${h1.find((m) => m.name === 'rspan1')!.mirrored} sent, ${h2[0]!.mirrored} delivered; analysers saw ${seenB.length} and ${seenD.length} frames`,
  );
  assert.ok(seenD.length <= h2[0]!.mirrored, 'the analyser saw what the sink delivered');

  // Bad input: the field is named, nothing changes.
  const before = (await dvs(['mirrors', '--json'])).stdout;
  const bad = [
    { args: ['--source', `h1/${a.ifname}`, '--output', `h1/${b.ifname}`, '--sample', '0'], field: 'sampleEvery' },
    { args: ['--source', `h1/${a.ifname}`, '--output', `h1/${a.ifname}`], field: 'output' },
    { args: ['--source', `h1/${c.ifname}`, '--output', `h2/${d.ifname}`, '--vni', '100'], field: 'vni' },
  ];
  for (const { args, field } of bad) {
    const r = await dvs(['mirrors', 'create', '--name', 'bad', ...args]);
    assert.notEqual(r.code, 0, `refused: ${args.join(' ')}`);
    assert.match(r.stderr, new RegExp(field), `names ${field}: ${r.stderr}`);
  }
  assert.equal((await dvs(['mirrors', '--json'])).stdout, before, 'nothing changed');

  // Deleted: nothing left behind.
  for (const name of ['span1', 'rspan1']) assert.equal((await dvs(['mirrors', 'delete', '--name', name])).code, 0);
  await waitFor(
    'the agents dropped the mirrors',
    async () => (await mirrorsOn('h1')).length === 0 && (await mirrorsOn('h2')).length === 0,
    15_000,
    100,
  );
  const countersBefore = (await lab().admin('h1').call('counters/show')).data;
  assert.deepEqual(countersBefore.mirrors, {}, 'no mirror counters left');
  const againB = await capture(b, 'span-off');
  const againD = await capture(d, 'rspan-off');
  await ping(a, c);
  await ping(a, b); // B is switched again: A reaches it
  await waitFor(
    "B's capture holds A's pings to B",
    async () =>
      (await againB.frames()).filter((f) => f.echo === 'request' && f.src === a.mac && f.dst === b.mac).length >= PINGS,
    15_000,
    100,
  );
  const afterB = await againB.stop();
  const afterD = await againD.stop();
  assert.equal(afterB.filter((f) => f.echo !== null && f.dst === c.mac).length, 0, 'no more copies at B');
  assert.equal(afterB.filter((f) => f.echo === 'request' && f.src === a.mac && f.dst === b.mac).length, PINGS);
  // D is a member of VNI 100 again: it gets A's broadcasts, but no copy of A's unicast to C.
  assert.deepEqual(
    afterD.filter((f) => f.src === a.mac && f.dst === c.mac),
    [],
    'no more copies at D',
  );
});
