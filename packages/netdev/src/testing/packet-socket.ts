import { NetdevError } from '../errors.js';
import { FdWatcher } from '../fd-watcher.js';
import { describeLink } from '../link-info.js';
import { nativeBinding } from '../native-binding.js';
import { readFrameBatch, writeFrameBatch } from '../native-frame-calls.js';
import type { PacketBatch } from '../packet-batch.js';
import { checkHeadroom, checkSlots } from '../slot-check.js';
import { SlotList } from '../slot-list.js';

/**
 * The wire side of a real TAP (or the far end of a veth, a sibling macvlan)
 * for tests and benchmarks: an AF_PACKET socket bound to the interface — the
 * attached device's own socket (src/native/attach.cc) without its port
 * duties (no promiscuity, no deletion watch, no counters). send() transmits
 * frames out of the interface, so the TAP's reader gets them; recv() sees the
 * frames the TAP's writer injected (never what was transmitted on the
 * interface), with their 802.1Q tag in place even when the kernel moved it
 * into metadata (the frame then starts at headroom - 4 when headroom >= 4;
 * use batch.start(i)). Batch-shaped like the devices; non-blocking; send()
 * stops at EAGAIN and returns the count taken; onReadable as FrameDevice.
 * Open it in the interface's namespace (enterNetworkNamespace).
 */
export class PacketSocket {
  private readonly watcher: FdWatcher;
  private readonly slotList = new SlotList();
  private readonly out = new Float64Array(4);

  constructor(readonly interfaceName: string) {
    const link = describeLink(interfaceName);
    if (!link.exists) throw new NetdevError('DVS_NO_DEVICE', `no device ${interfaceName} in this network namespace`);
    const { fd } = nativeBinding().attachOpen({
      ifindex: link.ifindex,
      ringVersion: 0,
      ringBlockSize: 0,
      ringBlockCount: 0,
      ringFrameSize: 0,
      qdiscBypass: false,
      promiscuous: false,
      receiveBufferBytes: 4 * 2 ** 20,
      up: false,
    });
    this.watcher = new FdWatcher(fd);
  }

  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    checkSlots(batch, slots, n);
    const list = this.slotList.of(slots, n);
    return writeFrameBatch(nativeBinding().attachSend, this.watcher.fd, batch, list, n, this.out);
  }

  recv(batch: PacketBatch, headroom: number): number {
    checkHeadroom(batch, headroom);
    return readFrameBatch(nativeBinding().attachRecv, this.watcher.fd, batch, headroom, this.out);
  }

  /** Level-triggered readable notification on Node's loop; null stops it. */
  onReadable(handler: (() => void) | null): void {
    this.watcher.onReadable(handler);
  }

  close(): void {
    this.watcher.close();
  }
}
