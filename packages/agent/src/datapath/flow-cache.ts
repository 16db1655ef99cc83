/**
 * The IPFIX flow cache: what the data path counts per inner flow.
 *
 *  - Key: (VNI, address family, IP protocol, source and destination address,
 *    source and destination port). Ports are the TCP/UDP/SCTP ports of an
 *    unfragmented packet; for ICMP/ICMPv6 the source port is 0 and the
 *    destination port is type*256+code (the IPFIX exporters' convention);
 *    otherwise 0/0. Frames that are not IPv4/IPv6 are not cached.
 *  - Value: packets, octets (the IP packet's length: IPv4 total length, IPv6
 *    40 + payload length; a super-frame counts once with its whole length),
 *    first and last time seen, the ingress (a Port or a Peer) and the last
 *    egress (a Port, a Peer, or null for a flood).
 *  - Size: a fixed number of entries, every array allocated up front; a new
 *    flow that finds the cache full is not recorded and counted in `full`
 *    (packets and octets lost to that are counted too).
 *  - Expiry (expire(), run by the exporter off the frame loop): a flow idle
 *    for idleMs ends (reason idle); a flow active for activeMs is reported
 *    and starts a new period (reason active). Both hand the entry to a
 *    visitor, which reads it before it is reused.
 *
 * No allocation per frame: the key is read into a preallocated word array,
 * hashed, and compared in place; entries are chained per bucket through
 * index arrays, and freed entries go back on a free list.
 */
import { ETHERNET_HEADER_LENGTH, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '@dvs/wire';

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_SCTP = 132;
const IPPROTO_ICMPV6 = 58;
/** Address words per entry: source 4 words, destination 4 words (IPv4 uses one of each). */
const WORDS = 8;

export const FlowEnd = { Idle: 1, Active: 2, Forced: 4 } as const;
export type FlowEnd = (typeof FlowEnd)[keyof typeof FlowEnd];

/** Where a frame went or came from, as far as the cache is concerned: a Port, a Peer, or null (flood). */
export type FlowEndpoint = object | null;

export class FlowCache {
  readonly capacity: number;
  /** New flows not recorded because the cache was full, and what they carried. */
  full = 0;
  fullPackets = 0;
  fullOctets = 0;
  /** Flows in the cache now. */
  size = 0;
  readonly vni: Int32Array;
  readonly family: Uint8Array;
  readonly protocol: Uint8Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly words: Int32Array;
  readonly packets: Float64Array;
  readonly octets: Float64Array;
  readonly startMs: Float64Array;
  readonly lastMs: Float64Array;
  readonly ingress: FlowEndpoint[];
  readonly egress: FlowEndpoint[];
  private readonly used: Uint8Array;
  private readonly hashOf: Int32Array;
  private readonly next: Int32Array;
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private freeHead: number;
  /** The entry the last frame hit or made (-1: none). */
  private last = -1;
  private readonly key = new Int32Array(WORDS);

  constructor(capacity: number) {
    this.capacity = capacity;
    let nb = 1;
    while (nb < capacity * 2) nb <<= 1;
    this.mask = nb - 1;
    this.buckets = new Int32Array(nb).fill(-1);
    this.vni = new Int32Array(capacity);
    this.family = new Uint8Array(capacity);
    this.protocol = new Uint8Array(capacity);
    this.srcPort = new Uint16Array(capacity);
    this.dstPort = new Uint16Array(capacity);
    this.words = new Int32Array(capacity * WORDS);
    this.packets = new Float64Array(capacity);
    this.octets = new Float64Array(capacity);
    this.startMs = new Float64Array(capacity);
    this.lastMs = new Float64Array(capacity);
    this.ingress = new Array<FlowEndpoint>(capacity).fill(null);
    this.egress = new Array<FlowEndpoint>(capacity).fill(null);
    this.used = new Uint8Array(capacity);
    this.hashOf = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    for (let k = 0; k < capacity; k++) this.next[k] = k + 1 < capacity ? k + 1 : -1;
    this.freeHead = capacity > 0 ? 0 : -1;
  }

  /**
   * Counts the frame at `off` (`len` bytes, untagged Ethernet) in VNI `vni`.
   * Returns false when it is not IP (or is cut short) and nothing was counted.
   */
  count(
    vni: number,
    buf: Uint8Array,
    off: number,
    len: number,
    ingress: FlowEndpoint,
    egress: FlowEndpoint,
    now: number,
  ): boolean {
    if (len < ETHERNET_HEADER_LENGTH + 20) return false;
    const type = (buf[off + 12] << 8) | buf[off + 13];
    const ip = off + ETHERNET_HEADER_LENGTH;
    const end = off + len;
    const key = this.key;
    let family: number;
    let proto: number;
    let octets: number;
    let l4: number;
    let fragment = false;
    if (type === ETHERTYPE_IPV4) {
      if (buf[ip] >> 4 !== 4) return false;
      family = 4;
      proto = buf[ip + 9];
      octets = (buf[ip + 2] << 8) | buf[ip + 3];
      l4 = ip + (buf[ip] & 0x0f) * 4;
      fragment = (((buf[ip + 6] << 8) | buf[ip + 7]) & 0x1fff) !== 0;
      key[0] = word(buf, ip + 12);
      key[1] = key[2] = key[3] = 0;
      key[4] = word(buf, ip + 16);
      key[5] = key[6] = key[7] = 0;
    } else if (type === ETHERTYPE_IPV6) {
      if (len < ETHERNET_HEADER_LENGTH + 40 || buf[ip] >> 4 !== 6) return false;
      family = 6;
      proto = buf[ip + 6];
      octets = 40 + ((buf[ip + 4] << 8) | buf[ip + 5]);
      l4 = ip + 40;
      for (let k = 0; k < 8; k++) key[k] = word(buf, ip + 8 + k * 4);
    } else return false;
    let sport = 0;
    let dport = 0;
    if (!fragment && l4 + 4 <= end) {
      if (proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP) {
        sport = (buf[l4] << 8) | buf[l4 + 1];
        dport = (buf[l4 + 2] << 8) | buf[l4 + 3];
      } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
        dport = (buf[l4] << 8) | buf[l4 + 1];
      }
    }
    // A bulk transfer repeats its flow frame after frame: the last hit is tried before hashing.
    const last = this.last;
    if (last >= 0 && this.matches(last, vni, family, proto, sport, dport)) {
      this.hit(last, octets, egress, now);
      return true;
    }
    let h = Math.imul(vni ^ (proto << 24) ^ (family << 16), 0x9e3779b1);
    h = Math.imul(h ^ ((sport << 16) | dport), 0x85ebca6b);
    h = Math.imul(h ^ key[0], 0xc2b2ae35) ^ (h >>> 15);
    h = Math.imul(h ^ key[4], 0xc2b2ae35) ^ (h >>> 15);
    if (family === 6) for (let k = 1; k < WORDS; k++) if (k !== 4) h = Math.imul(h ^ key[k], 0xc2b2ae35) ^ (h >>> 15);
    const b = h & this.mask;
    for (let e = this.buckets[b]; e >= 0; e = this.next[e]) {
      if (this.hashOf[e] !== h || !this.matches(e, vni, family, proto, sport, dport)) continue;
      this.last = e;
      this.hit(e, octets, egress, now);
      return true;
    }
    const e = this.freeHead;
    if (e < 0) {
      this.full++;
      this.fullPackets++;
      this.fullOctets += octets;
      return true;
    }
    this.freeHead = this.next[e];
    this.next[e] = this.buckets[b];
    this.buckets[b] = e;
    this.used[e] = 1;
    this.size++;
    this.hashOf[e] = h;
    this.vni[e] = vni;
    this.family[e] = family;
    this.protocol[e] = proto;
    this.srcPort[e] = sport;
    this.dstPort[e] = dport;
    this.words.set(key, e * WORDS);
    this.packets[e] = 1;
    this.octets[e] = octets;
    this.startMs[e] = now;
    this.lastMs[e] = now;
    this.ingress[e] = ingress;
    this.egress[e] = egress;
    this.last = e;
    return true;
  }

  private hit(e: number, octets: number, egress: FlowEndpoint, now: number): void {
    this.packets[e]++;
    this.octets[e] += octets;
    this.lastMs[e] = now;
    // A pointer store costs a write barrier; the output rarely changes within a flow.
    if (this.egress[e] !== egress) this.egress[e] = egress;
  }

  /** Whether entry `e` (in use) holds the key of the frame being counted. */
  private matches(e: number, vni: number, family: number, proto: number, sport: number, dport: number): boolean {
    if (
      this.used[e] === 0 ||
      this.vni[e] !== vni ||
      this.protocol[e] !== proto ||
      this.family[e] !== family ||
      this.srcPort[e] !== sport ||
      this.dstPort[e] !== dport
    )
      return false;
    const base = e * WORDS;
    const key = this.key;
    const words = this.words;
    if (words[base] !== key[0] || words[base + 4] !== key[4]) return false;
    if (family === 4) return true;
    for (let k = 1; k < WORDS; k++) if (words[base + k] !== key[k]) return false;
    return true;
  }

  /**
   * Ends idle flows and reports active ones (see the file comment); with
   * `force`, ends every flow (a configuration change, shutdown). The visitor
   * sees each entry before it is freed or restarted.
   */
  expire(
    now: number,
    idleMs: number,
    activeMs: number,
    force: boolean,
    visit: (entry: number, reason: FlowEnd) => void,
  ): void {
    for (let e = 0; e < this.capacity; e++) {
      if (this.used[e] === 0) continue;
      if (force || now - this.lastMs[e] >= idleMs) {
        visit(e, force ? FlowEnd.Forced : FlowEnd.Idle);
        this.remove(e);
      } else if (now - this.startMs[e] >= activeMs) {
        visit(e, FlowEnd.Active);
        this.packets[e] = 0;
        this.octets[e] = 0;
        this.startMs[e] = now;
      }
    }
  }

  /** The entries in use (off the frame loop: `dvs flows`). */
  entries(): number[] {
    const out: number[] = [];
    for (let e = 0; e < this.capacity; e++) if (this.used[e] === 1 && this.packets[e] > 0) out.push(e);
    return out;
  }

  /** The source (0) or destination (1) address of an entry: 4 or 16 bytes. */
  address(e: number, which: 0 | 1): Uint8Array {
    const n = this.family[e] === 4 ? 1 : 4;
    const out = new Uint8Array(n * 4);
    const view = new DataView(out.buffer);
    for (let k = 0; k < n; k++) view.setInt32(k * 4, this.words[e * WORDS + which * 4 + k]);
    return out;
  }

  private remove(e: number): void {
    const b = this.hashOf[e] & this.mask;
    if (this.buckets[b] === e) this.buckets[b] = this.next[e];
    else {
      let p = this.buckets[b];
      while (p >= 0 && this.next[p] !== e) p = this.next[p];
      if (p >= 0) this.next[p] = this.next[e];
    }
    this.used[e] = 0;
    if (this.last === e) this.last = -1;
    this.ingress[e] = this.egress[e] = null;
    this.next[e] = this.freeHead;
    this.freeHead = e;
    this.size--;
  }
}

function word(buf: Uint8Array, at: number): number {
  return (buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3];
}
