/**
 * sFlow's packet sampling in the data path: random 1-in-N per port, the
 * first bytes of each sampled frame copied into a preallocated ring that the
 * sFlow exporter drains off the frame loop.
 *
 *  - Per port: a countdown of frames to skip. Each frame decrements it; at 0
 *    the frame is sampled and the next skip is drawn uniformly from
 *    1..2N-1 (mean N), the spacing sFlow v5 §4.2.1 asks for, from a
 *    xorshift32 generator (no allocation, no Math.random per frame). The
 *    port's sample pool counts every frame that could have been sampled.
 *  - The ring holds `capacity` samples of at most `headerBytes` bytes each;
 *    a sample that finds it full is lost and counted in the port's drops
 *    (sent to the collector as the flow sample's `drops`).
 */
import type { FlowEndpoint } from './flow-cache.js';

/** Sampling state of one port; lives in the FlowSampler's map, not on the port. */
export class PortSampling {
  skip: number;
  /** Frames that could have been sampled (sFlow sample_pool). */
  pool = 0;
  /** Samples taken (the flow sample sequence number). */
  taken = 0;
  /** Samples lost to a full ring. */
  drops = 0;
  constructor(first: number) {
    this.skip = first;
  }
}

export class FlowSampler {
  /** 1-in-`rate`; 0: sampling off. */
  rate = 0;
  readonly ports = new Map<object, PortSampling>();
  readonly capacity: number;
  readonly headerBytes: number;
  /** Ring: slot k holds header bytes at k*headerBytes. */
  readonly headers: Uint8Array;
  readonly headerLength: Uint16Array;
  readonly frameLength: Uint32Array;
  readonly vni: Int32Array;
  readonly pool: Float64Array;
  readonly drops: Float64Array;
  readonly sequence: Float64Array;
  readonly input: FlowEndpoint[];
  readonly output: FlowEndpoint[];
  /** Flood copies (output of a flood: the number of ports and VTEPs it went to). */
  readonly outputCount: Uint16Array;
  /** Next slot to write, next slot to read (ring indexes grow without bound; slot = index % capacity). */
  head = 0;
  tail = 0;
  /** Seeded once per sampler: agents (and restarts) do not sample the same pattern. */
  private seed = (Math.random() * 0xffffffff) | 0 || 0x2545f491;

  constructor(capacity: number, headerBytes: number) {
    this.capacity = capacity;
    this.headerBytes = headerBytes;
    this.headers = new Uint8Array(capacity * headerBytes);
    this.headerLength = new Uint16Array(capacity);
    this.frameLength = new Uint32Array(capacity);
    this.vni = new Int32Array(capacity);
    this.pool = new Float64Array(capacity);
    this.drops = new Float64Array(capacity);
    this.sequence = new Float64Array(capacity);
    this.input = new Array<FlowEndpoint>(capacity).fill(null);
    this.output = new Array<FlowEndpoint>(capacity).fill(null);
    this.outputCount = new Uint16Array(capacity);
  }

  /** The sampling state of a port (made on its first batch; off the per-frame path). */
  stateOf(port: object): PortSampling {
    let s = this.ports.get(port);
    if (s === undefined) {
      s = new PortSampling(this.nextSkip());
      this.ports.set(port, s);
    }
    return s;
  }

  /** A skip drawn uniformly from 1..2*rate-1. */
  nextSkip(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x;
    const span = this.rate * 2 - 1;
    return span <= 1 ? 1 : 1 + ((x >>> 0) % span);
  }

  /** Copies the frame into the ring (called when a port's countdown reached 0). */
  take(
    s: PortSampling,
    vni: number,
    buf: Uint8Array,
    off: number,
    len: number,
    input: FlowEndpoint,
    output: FlowEndpoint,
    outputCount: number,
  ): void {
    s.taken++;
    if (this.head - this.tail >= this.capacity) {
      s.drops++;
      return;
    }
    const slot = this.head % this.capacity;
    const n = len < this.headerBytes ? len : this.headerBytes;
    // A byte loop: at most headerBytes, once per sample; a subarray view would allocate.
    const headers = this.headers;
    const at = slot * this.headerBytes;
    for (let k = 0; k < n; k++) headers[at + k] = buf[off + k];
    this.headerLength[slot] = n;
    this.frameLength[slot] = len;
    this.vni[slot] = vni;
    this.pool[slot] = s.pool;
    this.drops[slot] = s.drops;
    this.sequence[slot] = s.taken;
    this.input[slot] = input;
    this.output[slot] = output;
    this.outputCount[slot] = outputCount;
    this.head++;
  }
}
