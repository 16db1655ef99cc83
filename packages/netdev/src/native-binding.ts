import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NetdevError } from './errors.js';

/**
 * The compiled addon (src/native/*.cc, built by node-gyp into
 * build/Release/dvs_netdev.node during `npm ci` or by scripts/bootstrap.sh).
 * Loaded lazily, so the fakes and the dgram socket work without it.
 *
 * Batch arguments are always (buffer, slotSize, capacity, offsets, lengths),
 * checked again natively so a bad call can never touch memory outside the batch.
 */
export interface FdHandle {
  readonly fd: number;
  /** 1 readable | 2 writable; 0 stops. */
  watch(events: number): void;
  ref(): void;
  unref(): void;
  close(): void;
}

type BatchArgs = [buffer: Buffer, slotSize: number, capacity: number, offsets: Uint32Array, lengths: Uint32Array];
type AddressArgs = [family: Uint8Array, ipv4: Uint32Array, ipv6: Buffer, port: Uint16Array];

export interface NativeBinding {
  FdHandle: new (fd: number, callback: (events: number, status: number) => void) => FdHandle;
  tapOpen(options: { name: string; persistent: number; owner: number; group: number; mtu: number; up: boolean }): {
    fd: number;
    name: string;
    mtu: number;
    existed: boolean;
  };
  tapRead(fd: number, ...args: [...BatchArgs, headroom: number, family: Uint8Array, drops: Float64Array]): number;
  tapWrite(fd: number, ...args: [...BatchArgs, slots: Uint32Array, n: number, drops: Float64Array]): number;
  udpOpen(
    family: number,
    address: Uint8Array,
    port: number,
    recvBufferSize: number,
    sendBufferSize: number,
    dualStack: boolean,
  ): { fd: number; port: number };
  udpRecv(fd: number, ...args: [...BatchArgs, headroom: number, ...AddressArgs, drops: Float64Array]): number;
  udpSend(
    fd: number,
    ...args: [
      ...BatchArgs,
      slots: Uint32Array,
      n: number,
      ...AddressArgs,
      socketFamily: number,
      drops: Float64Array,
      gso?: Float64Array,
    ]
  ): number;
  packetOpen(ifname: string): number;
  packetRecv(fd: number, ...args: [...BatchArgs, headroom: number]): number;
  packetSend(fd: number, ...args: [...BatchArgs, slots: Uint32Array, n: number]): number;
  netnsEnter(path: string): number;
  netnsRestore(savedFd: number): void;
}

/** Where node-gyp puts the addon, relative to this file (dist/src/). */
const ADDON_PATH = fileURLToPath(new URL('../../build/Release/dvs_netdev.node', import.meta.url));

let binding: NativeBinding | null = null;

export function nativeBinding(): NativeBinding {
  if (binding !== null) return binding;
  try {
    binding = createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
  } catch (err) {
    throw new NetdevError(
      'DVS_NATIVE_UNAVAILABLE',
      `the native addon is not built (${ADDON_PATH}): run scripts/bootstrap.sh or npm ci (${(err as Error).message})`,
    );
  }
  return binding;
}

/** True when the addon can be loaded (it is built and this is Linux). */
export function nativeAvailable(): boolean {
  try {
    nativeBinding();
    return true;
  } catch {
    return false;
  }
}

/** The error shape the addon throws for a failed system call. */
export interface NativeSystemError extends Error {
  errno: string;
  syscall: string;
}

export function isNativeSystemError(err: unknown): err is NativeSystemError {
  return err instanceof Error && typeof (err as Partial<NativeSystemError>).errno === 'string';
}
