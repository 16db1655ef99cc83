/**
 * Interop with the Linux kernel: host A runs dvs-agent; host B runs a kernel
 * vxlan device (VNI 100, nolearning) in a bridge with a VM behind a veth, and
 * sends BUM to A with an all-zeros FDB entry — the way a hand-built kernel
 * VTEP is configured. VMs ping both ways and pass iperf3 both ways. Every
 * test runs with the agent's offloads on and off (support/offloads.ts), each
 * in a lab of its own.
 *
 * The kernel VM's veth gets TX checksum offload turned off: see
 * support/checksum-offload.ts (a veth artefact, not a VXLAN one).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { NetnsLab } from '../support/netns-lab.js';
import { twoHostUnderlay } from '../support/two-hosts.js';
import { iperf3, pings, plugVm, tcpTransfer } from '../support/vm-setup.js';
import { disableNetdevFeature, disableTxChecksumOffload } from '../support/checksum-offload.js';
import { tsharkCapture } from '../support/capture.js';
import { run } from '../support/run-command.js';
import { assertOffloadsState, offloadModes, type OffloadsMode } from '../support/offloads.js';
import { describeWireVerdict, runTsharkWire } from '@dvs/lab';
import { waitFor } from '@dvs/test-support';

/** The agent's outer source-port range (per-flow entropy, RFC 7348 §5). */
const SOURCE_MIN = 49200;
const SOURCE_MAX = 49215;

/** The whole file, with the agent's offloads on or off. */
function kernelInterop(mode: OffloadsMode): void {
  const lab = new NetnsLab(mode === 'on' ? 'dvak' : 'dvkf');
  const named = (what: string) => `${what} (offloads ${mode})`;
  let hostA: string;
  let hostB: string;
  let vmA: string;
  let vmB: string;
  let agent: AgentProcess;

  before(async () => {
    ({ hostA, hostB } = await twoHostUnderlay(lab));
    agent = await startAgent(lab, hostA, 'agent-a', {
      host: 'host-a',
      offloads: mode,
      vtep: { address: '198.51.100.1', sourcePorts: { min: SOURCE_MIN, max: SOURCE_MAX } },
      networks: [{ vni: 100, encap: 'vxlan', mtu: 1450, externalVteps: ['198.51.100.2'] }],
      ports: [{ name: lab.name('a1'), vni: 100 }],
    });
    vmA = await lab.netns('va1');
    await plugVm(lab, hostA, lab.name('a1'), vmA, ['192.0.2.11/25']);

    // Host B: the kernel's own VXLAN VTEP.
    const vx = lab.name('vx');
    const br = lab.name('br');
    const b = (...argv: string[]) => lab.exec(hostB, argv);
    await b(
      'ip',
      'link',
      'add',
      vx,
      'type',
      'vxlan',
      'id',
      '100',
      'dstport',
      '4789',
      'local',
      '198.51.100.2',
      'nolearning',
    );
    await b('ip', 'link', 'add', br, 'type', 'bridge');
    await b('ip', 'link', 'set', vx, 'master', br);
    await b('bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', vx, 'dst', '198.51.100.1');
    vmB = await lab.netns('vb1');
    await lab.veth(hostB, lab.name('bp'), null, vmB, lab.name('b1'), '192.0.2.21/25', 1450);
    await b('ip', 'link', 'set', lab.name('bp'), 'master', br);
    await disableTxChecksumOffload(lab, vmB, lab.name('b1'));
    await b('ip', 'link', 'set', vx, 'up');
    await b('ip', 'link', 'set', br, 'up');
  });

  after(async () => {
    await lab.cleanup();
  });

  test(named('VMs ping both ways between dvs-agent and a kernel vxlan VTEP'), async () => {
    assert.ok(await pings(lab, vmA, '192.0.2.21'), 'dvs VM → kernel VM');
    assert.ok(await pings(lab, vmB, '192.0.2.11'), 'kernel VM → dvs VM');
    const bMac = (await lab.exec(vmB, ['cat', `/sys/class/net/${lab.name('b1')}/address`])).stdout.trim();
    const fdb = await agent.call('fdb/show', '100');
    assert.ok(
      fdb.some((e) => e.mac === bMac && e.kind === 'vtep' && e.location === '198.51.100.2:4789'),
      'the kernel VM is learned behind the kernel VTEP',
    );
    const peers = await agent.call('peers/show');
    assert.ok(peers[0].counters.rxFrames > 0 && peers[0].counters.txFrames > 0);
    const tunnels = await agent.admin.call('tunnels/show');
    assert.match(tunnels.text, /unmonitored/, 'the kernel VTEP is external: listed, never probed');
  });

  test(
    named('TCP both ways against the kernel VTEP: iperf3 throughput, and 16 MiB delivered whole and intact'),
    async () => {
      const there = await iperf3(lab, vmB, '192.0.2.21', vmA);
      const back = await iperf3(lab, vmA, '192.0.2.11', vmB);
      console.log(
        `# iperf3 dvs → kernel vxlan: ${(there.bitsPerSecond / 1e9).toFixed(3)} Gbit/s; kernel → dvs: ${(back.bitsPerSecond / 1e9).toFixed(3)} Gbit/s`,
      );
      assert.ok(there.bytesReceived > 0 && back.bytesReceived > 0, 'iperf3 moved data both ways');
      // The transfer completes: every byte of a known stream arrives, in order (same count, same SHA-256).
      for (const [what, server, address, client] of [
        ['dvs → kernel vxlan', vmB, '192.0.2.21', vmA],
        ['kernel vxlan → dvs', vmA, '192.0.2.11', vmB],
      ] as const) {
        const { sent, received } = await tcpTransfer(lab, server, address, client);
        assert.equal(sent.bytes, 16 * 1024 * 1024, `${what}: the whole stream was sent`);
        assert.deepEqual(received, sent, `${what}: the server received every byte, intact`);
      }
      const port = (await agent.call('ports/show'))[0];
      await assertOffloadsState(mode, { ns: vmA, port }, await agent.call('sockets/show'));
      if (mode === 'on') {
        // The dvs VM's TSO super-frames were segmented on their way to the kernel VTEP, and its segments coalesced on the way back.
        assert.ok((port.offloads?.superFrames ?? 0) > 0, 'the dvs VM handed the agent super-frames');
        assert.ok((port.offloads?.coalesced ?? 0) > 0, "the kernel VTEP's segments reached the dvs VM coalesced");
        assert.equal((port.offloads?.badHeaders ?? 0) + (port.offloads?.unsegmentable ?? 0), 0);
      }
    },
  );

  test(
    named(
      'per-flow outer source ports: 48 inner flows leave from many ports of the range, each flow from one; the kernel VTEP still answers',
    ),
    async () => {
      // Back-to-back datagrams to one VTEP from one outer source port leave the agent as one UDP GSO send, and
      // a veth carries that whole: the capture would show one datagram (the first inner flow) for several. Host
      // A's veth cuts them in software instead, as a NIC without USO would, so each datagram is seen on its own.
      await disableNetdevFeature(lab, hostA, lab.name('ua'), 'tx-udp-segmentation');
      const capture = await tsharkCapture(
        lab,
        hostB,
        lab.name('ub'),
        'udp dst port 4789 and src host 198.51.100.1',
        'entropy',
      );
      const flows = Array.from({ length: 24 }, (_, k) => 7000 + k);
      // Two datagrams per flow and round (one socket each, inner UDP to ports 7000..7023), sent from the dvs VM.
      const sender = `const d = require('node:dgram'); (async () => { for (const p of [${flows.join(',')}]) {
      const s = d.createSocket('udp4'); for (let k = 0; k < 2; k++) await new Promise((r) => s.send('x', p, '192.0.2.21', r)); s.close(); } })();`;
      // The kernel VM's address resolved first, so no datagram waits in the neighbour queue; then two rounds.
      assert.ok(await pings(lab, vmA, '192.0.2.21', 1), 'dvs VM → kernel VM');
      await lab.exec(vmA, [process.execPath, '-e', sender]);
      await lab.exec(vmA, [process.execPath, '-e', sender]);
      // Outer and inner UDP ports of each captured VXLAN datagram.
      const captured = async (): Promise<string[]> =>
        (
          await run([
            'tshark',
            '-r',
            capture.pcap,
            '-T',
            'fields',
            '-e',
            'udp.srcport',
            '-e',
            'udp.dstport',
            '-Y',
            'vxlan',
          ])
        ).stdout
          .trim()
          .split('\n');
      // The datagrams cross the agent and the underlay after the senders are done: the capture (written as it
      // goes) is read until the last flow's datagrams are in it, then stopped; what it holds is judged below.
      const last = flows[flows.length - 1]!;
      await waitFor(
        'the capture holds the last flow of the second round',
        async () => (await captured()).filter((line) => line.endsWith(`,${last}`)).length >= 4,
        15_000,
        200,
      ).catch(() => undefined);
      await capture.stop();
      const lines = await captured();
      // A flow is an inner (source port, destination port) pair: each round's sockets are new flows.
      const sourceOf = new Map<string, Set<number>>();
      const reached = new Set<number>();
      for (const line of lines) {
        const [src, dst] = line.split('\t').map((f) => f.split(',').map(Number));
        if (dst === undefined || dst.length < 2 || !flows.includes(dst[1])) continue;
        reached.add(dst[1]);
        const flow = `${src[1]}>${dst[1]}`;
        const ports = sourceOf.get(flow) ?? new Set<number>();
        ports.add(src[0]);
        sourceOf.set(flow, ports);
      }
      assert.equal(
        reached.size,
        flows.length,
        `every destination port crossed the underlay (saw ${[...reached].join(',')})`,
      );
      const used = new Set<number>();
      for (const [flow, ports] of sourceOf) {
        assert.equal(ports.size, 1, `flow ${flow} left from one source port (${[...ports].join(',')})`);
        const [port] = ports;
        assert.ok(port >= SOURCE_MIN && port <= SOURCE_MAX, `source port ${port} is in the configured range`);
        used.add(port);
      }
      console.log(
        `# ${sourceOf.size} inner flows over ${used.size} of ${SOURCE_MAX - SOURCE_MIN + 1} outer source ports`,
      );
      assert.ok(used.size >= 6, `flows are spread over the range (${used.size} ports used)`);
      // The probes and the kernel VTEP's replies still work: the ping of the first test, once more.
      assert.ok(await pings(lab, vmB, '192.0.2.11'), 'kernel VM → dvs VM after the flows');
    },
  );

  test(
    named(
      'the wire: every underlay datagram of a bulk transfer is within the underlay MTU and decodes cleanly in tshark',
    ),
    async () => {
      // The agent sends UDP GSO; host A's veth cuts it in software, as a NIC without USO would (set since the
      // per-flow test; set again so this test stands alone).
      await disableNetdevFeature(lab, hostA, lab.name('ua'), 'tx-udp-segmentation');
      const capture = await tsharkCapture(
        lab,
        hostB,
        lab.name('ub'),
        'udp dst port 4789 and src host 198.51.100.1',
        'mtu',
      );
      const { sent, received } = await tcpTransfer(lab, vmB, '192.0.2.21', vmA, 4 * 1024 * 1024);
      assert.deepEqual(received, sent, 'dvs → kernel vxlan: every byte, intact');
      // The capture is written as it goes, behind the transfer: read until it holds the transfer, then stopped.
      await waitFor(
        'the capture holds the transfer',
        async () => (await runTsharkWire(capture.pcap, { mtu: 1500, encap: 'vxlan' })).carryingTcp > 2000,
        20_000,
        500,
      ).catch(() => undefined);
      const pcap = await capture.stop();
      // The shared wire check (the datapath benchmark's too): ≤ MTU, VXLAN down to the inner TCP, nothing malformed.
      const wire = await runTsharkWire(pcap, { mtu: 1500, encap: 'vxlan' });
      console.log(`# ${describeWireVerdict(wire)}`);
      assert.ok(wire.carryingTcp > 2000, 'the capture saw the transfer (4 MiB in ≤ 1398-byte segments)');
      assert.ok(
        wire.largestIpLength <= 1500,
        `every datagram fits the 1500-byte underlay MTU (largest ${wire.largestIpLength})`,
      );
      assert.ok(wire.pass, `tshark decodes every datagram cleanly: ${describeWireVerdict(wire)}`);
    },
  );
}

for (const mode of offloadModes())
  describe(`interop with the kernel's vxlan (offloads ${mode})`, () => kernelInterop(mode));
