/**
 * node packages/netdev/dist/bench/udp-gro.js   (or DVS_BENCH_CONFIGS=gro npm run bench -- netdev)
 *
 * What UDP_GRO on the tunnel socket saves, in CPU per GB carried: one
 * process sends runs of 44 datagrams of 1472 bytes (a 64 KiB TCP super-frame
 * cut to a 1500-byte underlay, VXLAN-sized) as UDP GSO messages over
 * loopback to a second native socket, receives them, and walks every
 * datagram as the data path does: (g) with UDP_GRO, each message comes in
 * as one super-datagram, walked through SuperDatagramViews; (p) without,
 * the kernel cuts it into 44 datagrams again before the socket, which
 * recvmmsg returns one per slot. Sender, kernel and receiver all bill this
 * one process (loopback runs the receive side in the sender's system call),
 * so user + system CPU per GB is the whole path's cost. The two alternate,
 * ROUNDS times each; the medians and their ratio are printed. CPU time,
 * not wall time: a loaded machine slows both alike but bills neither for
 * the other helpers' work.
 */
import { parseIpAddress } from '@dvs/wire';
import { PacketBatch, SUPER_FRAME_SLOT_BYTES, SuperDatagramViews, openTunnelSocketSync } from '../src/index.js';
import type { NativeTunnelSocket } from '../src/index.js';

const DATAGRAM = 1472;
const RUN = 44;
const HEADROOM = 64;
const BYTES_PER_ROUND = Number(process.env.DVS_BENCH_GRO_MB ?? 512) * 2 ** 20;
const ROUNDS = 5;

interface Round {
  cpuSecondsPerGB: number;
  datagrams: number;
  superDatagrams: number;
}

function sendBatch(): { batch: PacketBatch; slots: Uint32Array } {
  const batch = new PacketBatch(RUN, 2048);
  for (let i = 0; i < RUN; i++) {
    batch.offsets[i] = 0;
    batch.lengths[i] = DATAGRAM;
    batch.buffer.fill(i, i * batch.slotSize, i * batch.slotSize + DATAGRAM);
  }
  return { batch, slots: Uint32Array.from(batch.offsets.keys()) };
}

function measure(gro: boolean): Round {
  const receiver = openTunnelSocketSync({
    address: '127.0.0.1',
    port: 0,
    recvBufferSize: 8 << 20,
    receiveOffload: gro,
  });
  const sender = openTunnelSocketSync({ address: '127.0.0.1', port: 0, sendBufferSize: 8 << 20 });
  try {
    if (gro && !receiver.receivesSuperDatagrams) throw new Error(`UDP_GRO refused: ${receiver.groRefusal?.errno}`);
    const to = parseIpAddress('127.0.0.1');
    if (to === null || to.family !== 4) throw new Error('no loopback');
    const { batch, slots } = sendBatch();
    for (let i = 0; i < RUN; i++) batch.setIpv4Destination(i, to.ipv4, receiver.localPort);
    const views = new SuperDatagramViews(64, HEADROOM + SUPER_FRAME_SLOT_BYTES);
    const plain = new PacketBatch(64, 2048);
    let walked = 0;
    let bytes = 0;
    const walk = (s: NativeTunnelSocket): number => {
      if (!gro) {
        const n = s.recv(plain, HEADROOM);
        for (let i = 0; i < n; i++) bytes += plain.lengths[i];
        return n;
      }
      const n = s.recv(views.batch, HEADROOM);
      let got = 0;
      for (let i = 0; i < n; i++) {
        const v = views.view(i);
        const count = views.datagramsIn(i);
        if (v === null) {
          bytes += views.batch.lengths[i];
        } else {
          for (let j = 0; j < count; j++) bytes += v.lengths[j];
        }
        got += count;
      }
      return got;
    };
    const start = process.cpuUsage();
    while (bytes < BYTES_PER_ROUND) {
      let sent = 0;
      while (sent < RUN) {
        sent += sender.send(batch, slots.subarray(sent), RUN - sent);
      }
      let got = 0;
      for (let spin = 0; got < RUN && spin < 100_000; spin++) got += walk(receiver);
      walked += got;
    }
    const used = process.cpuUsage(start);
    const gb = bytes / 1e9;
    return {
      cpuSecondsPerGB: (used.user + used.system) / 1e6 / gb,
      datagrams: walked,
      superDatagrams: receiver.stats.recvGroMessages ?? 0,
    };
  } finally {
    sender.close();
    receiver.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

export function runUdpGroBench(): void {
  const rounds: Record<'g' | 'p', Round[]> = { g: [], p: [] };
  measure(true); // warm-up: JIT and page cache
  for (let r = 0; r < ROUNDS; r++) {
    rounds.p.push(measure(false));
    rounds.g.push(measure(true));
  }
  console.log(
    `\nUDP receive, ${RUN} × ${DATAGRAM} B per UDP GSO message over loopback, ${BYTES_PER_ROUND / 2 ** 20} MiB per round, ${ROUNDS} rounds each, alternating (CPU = user + system of this process)`,
  );
  console.log('| receive | CPU s/GB (median, min…max) | super-datagrams per round |');
  console.log('| --- | --- | --- |');
  for (const [key, label] of [
    ['p', '(p) plain recvmmsg'],
    ['g', '(g) UDP_GRO + views'],
  ] as const) {
    const cpu = rounds[key].map((x) => x.cpuSecondsPerGB);
    console.log(
      `| ${label} | ${median(cpu).toFixed(3)} (${Math.min(...cpu).toFixed(3)}…${Math.max(...cpu).toFixed(3)}) | ${median(rounds[key].map((x) => x.superDatagrams))} |`,
    );
  }
  const ratio = median(rounds.g.map((x) => x.cpuSecondsPerGB)) / median(rounds.p.map((x) => x.cpuSecondsPerGB));
  console.log(`(g) / (p) CPU per GB: ${ratio.toFixed(2)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) runUdpGroBench();
