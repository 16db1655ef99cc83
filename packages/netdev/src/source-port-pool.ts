/**
 * The source-port pool of a native tunnel socket (per-flow entropy, RFC 7348
 * §5): send-only UDP sockets on the tunnel's local address, one per source
 * port. The data path names a pool port per slot (PacketBatch.sourcePort);
 * udpSend sends that slot out of the pool socket bound to it, so UDP GSO and
 * the kernel's checksums work as on the main socket. Nothing is read from
 * them (peers send to the tunnel port); their receive buffers are minimal.
 */
import { NetdevError } from './errors.js';
import { nativeBinding, type FdHandle } from './native-binding.js';
import { toNetdevError } from './system-error.js';
import type { SourcePortPoolOptions } from './types.js';

/** The most sockets one pool opens: flows spread over the pool, fds stay few. */
export const MAX_SOURCE_PORTS = 256;
/** The kernel's minimum receive buffer is what a send-only socket needs. */
const POOL_RECV_BUFFER = 1;

export class SourcePortPool {
  /** The pool's ports, in the order flows are hashed onto them. */
  readonly ports: readonly number[];
  /** For udpSend: fds[k] is bound to ports[k]. */
  readonly fds: Int32Array;
  readonly portArray: Uint16Array;
  private readonly handles: FdHandle[];

  private constructor(handles: FdHandle[], ports: number[]) {
    this.handles = handles;
    this.ports = ports;
    this.fds = Int32Array.from(handles.map((h) => h.fd));
    this.portArray = Uint16Array.from(ports);
  }

  /** Opens the pool; on any failure closes what it opened and throws NetdevError naming the port. */
  static open(
    options: SourcePortPoolOptions,
    family: 4 | 6,
    address: Uint8Array,
    dualStack: boolean,
    sendBufferSize: number,
  ): SourcePortPool {
    const wanted = checkSourcePorts(options);
    const binding = nativeBinding();
    const handles: FdHandle[] = [];
    const ports: number[] = [];
    try {
      for (const port of wanted) {
        let opened: { fd: number; port: number };
        try {
          opened = binding.udpOpen(family, address, port, POOL_RECV_BUFFER, sendBufferSize, dualStack, port !== 0);
        } catch (err) {
          throw toNetdevError(err, `bind source port ${port}`);
        }
        handles.push(new binding.FdHandle(opened.fd, () => {}));
        ports.push(opened.port);
      }
    } catch (err) {
      for (const h of handles) h.close();
      throw err;
    }
    return new SourcePortPool(handles, ports);
  }

  close(): void {
    for (const h of this.handles) h.close();
    this.handles.length = 0;
  }
}

/** The ports a pool binds (0: the kernel picks); throws DVS_ADDRESS_INVALID naming the field and the fix. */
export function checkSourcePorts(options: SourcePortPoolOptions): number[] {
  if ('count' in options) {
    const { count } = options;
    if (!Number.isInteger(count) || count < 1 || count > MAX_SOURCE_PORTS)
      throw new NetdevError('DVS_ADDRESS_INVALID', `sourcePorts.count must be 1..${MAX_SOURCE_PORTS}, got ${count}`);
    return new Array<number>(count).fill(0);
  }
  const { min, max } = options;
  const isPort = (p: number): boolean => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!isPort(min) || !isPort(max) || min > max || max - min + 1 > MAX_SOURCE_PORTS)
    throw new NetdevError(
      'DVS_ADDRESS_INVALID',
      `sourcePorts must be { min, max } with 1 <= min <= max <= 65535 and at most ${MAX_SOURCE_PORTS} ports, got ${min}..${max}`,
    );
  const ports: number[] = [];
  for (let p = min; p <= max; p++) ports.push(p);
  return ports;
}
