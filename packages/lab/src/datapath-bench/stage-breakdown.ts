/**
 * The latency breakdown of one ping through two dvs agents, from their stage
 * traces (@dvs/netdev stage-trace.ts: CLOCK_MONOTONIC marks at the addon's
 * edges, one clock for both agents on one host).
 *
 * One ping, agent A on the sender's host and B on the receiver's:
 *   A egress   poll(TAP) → tap-read → send-start → send-done
 *   B ingress  poll(socket) → recv-done → tap-write
 *   (VM B answers)
 *   B egress   poll(TAP) → tap-read → send-start → send-done
 *   A ingress  poll(socket) → recv-done → tap-write
 * A hop's stages are matched in one agent's records (the wake-up that
 * preceded a read, the first send or write after it); the hops of one ping
 * across agents by time: the first B ingress woken after A's send, and so on,
 * each within MATCH_WINDOW_US. Pings run 10 ms apart, so nothing else is in
 * flight; a probe or an unmatched hop is left out, not guessed.
 *
 * A send returns only after the kernel ran the peer's receive as far as it
 * runs synchronously (a veth delivers in the sender's system call, and wakes
 * the peer agent before sendmmsg returns); a TAP write returns after the VM's
 * stack ran (for a ping, the echo reply is already queued on the TAP). So the
 * underlay is counted from send-start to the peer's wake-up, and a TAP write
 * holds the VM's work.
 */
import type { StageRecord } from '@dvs/netdev';

/** A hop further than this from the previous one is not the same ping's. */
export const MATCH_WINDOW_US = 5000;

/** The JS marks inside a hop (-1: not in the trace). */
interface JsMarks {
  /** The data path's read handler entered. */
  handler: number;
  /** The read returned frames to the data path. */
  jsRead: number;
  /** The pipeline switched the batch; its flush begins. */
  switched: number;
}

export interface EgressHop extends JsMarks {
  poll: number;
  read: number;
  sendStart: number;
  sendDone: number;
}

export interface IngressHop extends JsMarks {
  poll: number;
  recv: number;
  writeStart: number;
  write: number;
}

/** The stages of one matched ping, in µs, in the order a frame meets them. */
export const STAGES = [
  ['aWakeToRead', 'A: TAP wake-up → read returns in JS (uv_poll, N-API, read)'],
  ['aReadToSend', 'A: read → sendmmsg (the JS pipeline)'],
  ['aSend', "A: sendmmsg (returns after B's kernel received it)"],
  ['underlayAB', 'A sendmmsg starts → B woken (UDP over the veth, wake-up)'],
  ['bWakeToRecv', 'B: socket wake-up → recvmmsg returns'],
  ['bRecvToWrite', 'B: recvmmsg → TAP write starts (the JS pipeline)'],
  ['bWrite', "B: TAP write (VM B's stack answers inside it)"],
  ['vmTurnaround', 'B: TAP write returns → B woken by the reply'],
  ['bWakeToRead', 'B: TAP wake-up → read returns in JS'],
  ['bReadToSend', 'B: read → sendmmsg'],
  ['bSend', 'B: sendmmsg'],
  ['underlayBA', 'B sendmmsg starts → A woken'],
  ['aWakeToRecv', 'A: socket wake-up → recvmmsg returns'],
  ['aRecvToWrite', 'A: recvmmsg → TAP write starts'],
  ['aWrite', 'A: TAP write'],
  ['jsWork', 'the four JS pipeline stages together (read or recv → send or write)'],
  ['agentWork', 'all four agent hops: wake-up → send or write returns'],
  ['span', 'A: request wake-up → reply written (what the agents see of the RTT)'],
] as const;

export type StageName = (typeof STAGES)[number][0];
/** One matched ping: its stages, and when A was woken by its request (µs, CLOCK_MONOTONIC). */
export type PingStages = Record<StageName, number> & { startUs: number };

/** One agent's hops, in time order. */
export function agentHops(records: readonly StageRecord[]): { egress: EgressHop[]; ingress: IngressHop[] } {
  const taps = new Set<number>();
  const sockets = new Set<number>();
  for (const r of records) {
    if (r.mark === 'tap-read' || r.mark === 'tap-write') taps.add(r.fd);
    if (r.mark === 'recv-done') sockets.add(r.fd);
  }
  const egress: EgressHop[] = [];
  const ingress: IngressHop[] = [];
  const lastPoll = new Map<number, number>();
  let lastHandler = -1;
  let openEgress: (Omit<EgressHop, 'sendDone'> & JsMarks) | null = null;
  let openIngress: (Omit<IngressHop, 'write'> & JsMarks) | null = null;
  const open = (): JsMarks | null => openEgress ?? openIngress;
  for (const r of records) {
    switch (r.mark) {
      case 'poll':
        if ((r.frames & 1) !== 0) lastPoll.set(r.fd, r.atUs);
        break;
      case 'js-handler':
        lastHandler = r.atUs;
        break;
      case 'js-read': {
        const hop = open();
        if (hop !== null && hop.jsRead < 0) hop.jsRead = r.atUs;
        break;
      }
      case 'js-switched': {
        const hop = open();
        if (hop !== null && hop.switched < 0) hop.switched = r.atUs;
        break;
      }
      case 'tap-read': {
        const poll = lastPoll.get(r.fd);
        const handler = poll !== undefined && lastHandler >= poll ? lastHandler : -1;
        openEgress =
          poll === undefined ? null : { poll, read: r.atUs, sendStart: -1, handler, jsRead: -1, switched: -1 };
        openIngress = null;
        break;
      }
      case 'recv-done': {
        const poll = lastPoll.get(r.fd);
        const handler = poll !== undefined && lastHandler >= poll ? lastHandler : -1;
        openIngress =
          poll === undefined ? null : { poll, recv: r.atUs, writeStart: -1, handler, jsRead: -1, switched: -1 };
        openEgress = null;
        break;
      }
      case 'send-start':
        if (openEgress !== null && openEgress.sendStart < 0) openEgress.sendStart = r.atUs;
        break;
      case 'send-done':
        if (openEgress !== null && openEgress.sendStart >= 0) {
          egress.push({ ...openEgress, sendDone: r.atUs });
          openEgress = null;
        }
        break;
      case 'tap-write-start':
        if (openIngress !== null && openIngress.writeStart < 0) openIngress.writeStart = r.atUs;
        break;
      case 'tap-write':
        if (openIngress !== null && openIngress.writeStart >= 0) {
          ingress.push({ ...openIngress, write: r.atUs });
          openIngress = null;
        }
        break;
    }
  }
  return { egress, ingress };
}

function firstAfter<T>(hops: readonly T[], at: (h: T) => number, after: number): T | undefined {
  // Hops are in time order and few (one per ping each way): a scan is enough.
  for (const h of hops) {
    const t = at(h);
    if (t >= after) return t - after <= MATCH_WINDOW_US ? h : undefined;
  }
  return undefined;
}

/** Every ping whose four hops were all found, as its stage durations. */
export function matchPings(sender: readonly StageRecord[], receiver: readonly StageRecord[]): PingStages[] {
  const a = agentHops(sender);
  const b = agentHops(receiver);
  const out: PingStages[] = [];
  for (const req of a.egress) {
    const bIn = firstAfter(b.ingress, (h) => h.poll, req.sendStart);
    if (bIn === undefined) continue;
    const bOut = firstAfter(b.egress, (h) => h.poll, bIn.write);
    if (bOut === undefined) continue;
    const aIn = firstAfter(a.ingress, (h) => h.poll, bOut.sendStart);
    if (aIn === undefined) continue;
    out.push({
      startUs: req.poll,
      aWakeToRead: req.read - req.poll,
      aReadToSend: req.sendStart - req.read,
      aSend: req.sendDone - req.sendStart,
      underlayAB: bIn.poll - req.sendStart,
      bWakeToRecv: bIn.recv - bIn.poll,
      bRecvToWrite: bIn.writeStart - bIn.recv,
      bWrite: bIn.write - bIn.writeStart,
      vmTurnaround: bOut.poll - bIn.write,
      bWakeToRead: bOut.read - bOut.poll,
      bReadToSend: bOut.sendStart - bOut.read,
      bSend: bOut.sendDone - bOut.sendStart,
      underlayBA: aIn.poll - bOut.sendStart,
      aWakeToRecv: aIn.recv - aIn.poll,
      aRecvToWrite: aIn.writeStart - aIn.recv,
      aWrite: aIn.write - aIn.writeStart,
      jsWork:
        req.sendStart -
        req.read +
        (bIn.writeStart - bIn.recv) +
        (bOut.sendStart - bOut.read) +
        (aIn.writeStart - aIn.recv),
      agentWork:
        req.sendDone - req.poll + (bIn.write - bIn.poll) + (bOut.sendDone - bOut.poll) + (aIn.write - aIn.poll),
      span: aIn.write - req.poll,
    });
  }
  return out;
}

/** The stages of one agent hop, TAP → tunnel (egress) or tunnel → TAP (ingress), from the JS marks. */
export const HOP_STAGES = [
  ['wakeToHandler', "uv_poll wake-up → the data path's JS handler (N-API callback, dispatch)"],
  ['handlerToRead', "handler → frames back in JS (read or recvmmsg, N-API, the TAP's offload edge)"],
  ['switch', 'the pipeline switches the frame'],
  ['flushToIo', 'flush → sendmmsg or TAP write starts'],
  ['io', "sendmmsg or TAP write (the receiving kernel's work inside it)"],
  ['hop', 'the whole hop: wake-up → I/O returns'],
] as const;

export type HopStageName = (typeof HOP_STAGES)[number][0];

/** Every complete hop of one agent's trace, as stage durations (µs) per direction. */
export function hopStages(records: readonly StageRecord[]): {
  egress: Record<HopStageName, number>[];
  ingress: Record<HopStageName, number>[];
} {
  const { egress, ingress } = agentHops(records);
  const complete = (h: JsMarks): boolean => h.handler >= 0 && h.jsRead >= 0 && h.switched >= 0;
  return {
    egress: egress.filter(complete).map((h) => ({
      wakeToHandler: h.handler - h.poll,
      handlerToRead: h.jsRead - h.handler,
      switch: h.switched - h.jsRead,
      flushToIo: h.sendStart - h.switched,
      io: h.sendDone - h.sendStart,
      hop: h.sendDone - h.poll,
    })),
    ingress: ingress.filter(complete).map((h) => ({
      wakeToHandler: h.handler - h.poll,
      handlerToRead: h.jsRead - h.handler,
      switch: h.switched - h.jsRead,
      flushToIo: h.writeStart - h.switched,
      io: h.write - h.writeStart,
      hop: h.write - h.poll,
    })),
  };
}
