import { FdWatcher } from '../fd-watcher.js';
import { nativeBinding } from '../native-binding.js';
import type { PacketBatch } from '../packet-batch.js';
import { checkHeadroom, checkSlots } from '../slot-check.js';
import { SlotList } from '../slot-list.js';

/**
 * The wire side of a real TAP, for tests and benchmarks: an AF_PACKET socket
 * bound to the interface. send() transmits frames out of the interface, so
 * the TAP's reader gets them; recv() sees the frames the TAP's writer injected
 * (frames the kernel itself transmits are skipped), with their 802.1Q tag in
 * place even when the kernel moved it into metadata (VLAN offload).
 * Batch-shaped like the devices; non-blocking; send() stops at EAGAIN and
 * returns the count taken; onReadable as FrameDevice. Open it in the
 * interface's namespace (enterNetworkNamespace).
 */
export class PacketSocket {
  private readonly watcher: FdWatcher;
  private readonly slotList = new SlotList();

  constructor(readonly interfaceName: string) {
    this.watcher = new FdWatcher(nativeBinding().packetOpen(interfaceName));
  }

  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    checkSlots(batch, slots, n);
    return nativeBinding().packetSend(
      this.watcher.fd,
      batch.buffer,
      batch.slotSize,
      batch.capacity,
      batch.offsets,
      batch.lengths,
      this.slotList.of(slots, n),
      n,
    );
  }

  recv(batch: PacketBatch, headroom: number): number {
    checkHeadroom(batch, headroom);
    return nativeBinding().packetRecv(
      this.watcher.fd,
      batch.buffer,
      batch.slotSize,
      batch.capacity,
      batch.offsets,
      batch.lengths,
      headroom,
    );
  }

  /** Level-triggered readable notification on Node's loop; null stops it. */
  onReadable(handler: (() => void) | null): void {
    this.watcher.onReadable(handler);
  }

  close(): void {
    this.watcher.close();
  }
}
