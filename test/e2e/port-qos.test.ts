// Port QoS in the namespace lab, set with `dvs ports qos` (controller API →
// etcd → agent), measured by iperf3 (not ours): a VM whose
// port is policed at 20 Mbit/s on ingress sends UDP at twice that and TCP as
// fast as it can; what arrives settles near the rate (UDP within ±10 %, TCP
// with a wide tolerance: TCP backs off below a policer's rate). The other VM
// on the same host, unpoliced, keeps its throughput. The figures are printed;
// accuracy on a quiet machine is the benchmark's business. With the agents'
// offloads on (the policer sees super-frames) and off (MTU-sized frames),
// a lab each (support/offloads.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Lab, type VmState } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';
import { waitPidExit } from '../support/lab-vms.js';
import { runDvs } from '../support/dvs-cli.js';
import { offloadModes, type OffloadsMode } from '../support/offloads.js';

const RATE_KBPS = 20_000;
/** UDP: a tenth of a second's worth (the default). */
const UDP_BURST_KB = 2000;
/**
 * TCP: half a second's worth. A policer drops whole super-frames (up to 64 KiB
 * of segments at once); with a small bucket TCP backs off to half the rate.
 */
const TCP_BURST_KB = 10_000;
/** The whole file, with the agents' offloads on or off. */
function portQos(mode: OffloadsMode): void {
  const named = (what: string) => `${what} (offloads ${mode})`;
  let lab: Lab | null = null;
  const servers: ChildProcess[] = [];

  before(async () => {
    lab = await Lab.up({
      spec: { hosts: 2, vmsPerHost: 2, kernelHosts: 0, networks: [{ vni: 100, encap: 'vxlan' }], offloads: mode },
    });
  });

  after(async () => {
    for (const s of servers) {
      if (s.exitCode === null && s.signalCode === null) {
        s.kill('SIGTERM');
        await waitPidExit(s.pid!);
      }
    }
    if (lab) {
      const problems = await lab.down();
      assert.deepEqual(problems, [], 'teardown left something behind');
    }
  });

  const vmsOn = (host: string): VmState[] => lab!.state.vms.filter((v) => v.host === host);

  async function iperfServer(vm: VmState, port: number): Promise<void> {
    const ns = lab!.namespaceOf(vm.name);
    const child = spawn('ip', ['netns', 'exec', ns, 'iperf3', '-s', '-p', String(port)], { stdio: 'ignore' });
    servers.push(child);
    await waitFor(
      `iperf3 server in ${vm.name} listening on ${port}`,
      async () => (await lab!.exec(vm.name, ['ss', '-Hltn', `sport = :${port}`])).stdout.includes(`:${port}`),
      10_000,
      100,
    );
  }

  /** Received Mbit/s of one iperf3 run from `from` to `to` (UDP at `udpMbps`, or TCP). */
  async function iperf(from: VmState, to: VmState, port: number, udpMbps?: number): Promise<number> {
    const args = ['iperf3', '-c', to.address, '-p', String(port), '-t', '4', '-J'];
    if (udpMbps !== undefined) args.push('-u', '-b', `${udpMbps}M`, '-l', '1200');
    const r = await lab!.exec(from.name, args, { timeoutMs: 30_000 });
    const json = JSON.parse(r.stdout) as {
      error?: string;
      end: { sum?: { bits_per_second: number; lost_percent?: number }; sum_received?: { bits_per_second: number } };
    };
    assert.equal(json.error, undefined, `iperf3: ${json.error}`);
    if (udpMbps === undefined) return json.end.sum_received!.bits_per_second / 1e6;
    const sum = json.end.sum!;
    return (sum.bits_per_second * (1 - (sum.lost_percent ?? 0) / 100)) / 1e6;
  }

  test(
    named(
      'ingress policing at 20 Mbit/s: UDP sent at 40 arrives at the rate ±10 %, TCP near it; the unpoliced neighbour is not held back',
    ),
    async () => {
      const [policed, neighbour] = vmsOn('h1');
      const [sink1, sink2] = vmsOn('h2');
      assert.ok(policed && neighbour && sink1 && sink2, 'two VMs per host');
      await iperfServer(sink1, 5201);
      await iperfServer(sink2, 5202);
      const dvs = (args: string[]) =>
        runDvs(['--lab', lab!.id, ...args], process.env.DVS_LAB_DIR ? { DVS_LAB_DIR: process.env.DVS_LAB_DIR } : {});
      const port = ['--host', 'h1', '--port', policed.ifname];
      const ingressOnAgent = async () =>
        (await lab!.admin('h1').call('ports/show')).data.find((p) => p.name === policed.ifname)?.qos?.ingress ?? null;
      const police = async (burstKb: number): Promise<void> => {
        const r = await dvs([
          'ports',
          'qos',
          'set',
          ...port,
          '--ingress-rate',
          String(RATE_KBPS),
          '--ingress-burst',
          String(burstKb),
        ]);
        assert.equal(r.code, 0, r.stderr);
        await waitFor(
          `the agent polices at ${RATE_KBPS} kbit/s, burst ${burstKb} kbit`,
          async () => (await ingressOnAgent())?.burstKb === burstKb,
          15_000,
          100,
        );
      };
      // A rate of 0 is refused, naming the field; nothing changes.
      const zero = await dvs(['ports', 'qos', 'set', ...port, '--ingress-rate', '0']);
      assert.notEqual(zero.code, 0);
      assert.match(zero.stderr, /ingress\.rateKbps/);
      assert.match((await dvs(['ports', 'qos', '--json'])).stdout, /"ports": \[\]/);
      await police(UDP_BURST_KB);
      const udp = await iperf(policed, sink1, 5201, 40);
      await police(TCP_BURST_KB);
      const tcp = await iperf(policed, sink1, 5201);
      const free = await iperf(neighbour, sink2, 5202);
      const rate = RATE_KBPS / 1000;
      console.log(
        `# policing at ${rate} Mbit/s: UDP ${udp.toFixed(1)} Mbit/s (${((udp / rate - 1) * 100).toFixed(1)} %), TCP ${tcp.toFixed(1)} Mbit/s (${((tcp / rate - 1) * 100).toFixed(1)} %), unpoliced neighbour TCP ${free.toFixed(1)} Mbit/s`,
      );
      assert.ok(Math.abs(udp / rate - 1) <= 0.1, `UDP ${udp.toFixed(1)} Mbit/s is not within 10 % of ${rate}`);
      assert.ok(tcp <= rate * 1.1 && tcp >= rate * 0.4, `TCP ${tcp.toFixed(1)} Mbit/s is not near ${rate}`);
      assert.ok(free > rate * 1.5, `the unpoliced neighbour got only ${free.toFixed(1)} Mbit/s`);

      const ports = await lab!.admin('h1').call('ports/show');
      const view = ports.data.find((p) => p.name === policed.ifname);
      assert.ok((view?.qos?.ingress?.policed ?? 0) > 0, 'drops counted as policed');
      // What the policer saw: the VM's TSO super-frames, cut, or (offloads off) plain frames only.
      if (mode === 'on') assert.ok((view?.offloads?.superFrames ?? 0) > 0, 'the policed VM handed over super-frames');
      else assert.equal(view?.offloads, undefined, 'offloads off: the policed port reads plain frames');
      const counters = await lab!.admin('h1').call('counters/show');
      assert.ok(counters.data.drops['policed']! > 0);

      // Off again: nothing left behind.
      assert.equal((await dvs(['ports', 'qos', 'clear', ...port])).code, 0);
      await waitFor('the agent dropped the policer', async () => (await ingressOnAgent()) === null, 15_000, 100);
    },
  );
}

for (const mode of offloadModes()) describe(`port QoS (offloads ${mode})`, () => portQos(mode));
