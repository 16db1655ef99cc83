import { nativeBinding } from '../native-binding.js';
import type { FdHandle } from '../native-binding.js';
import type { PacketBatch } from '../packet-batch.js';
import { checkHeadroom, checkSlots } from '../slot-check.js';
import { SlotList } from '../slot-list.js';

/**
 * The wire side of a real TAP, for tests and benchmarks: an AF_PACKET socket
 * bound to the interface. send() transmits frames out of the interface, so
 * the TAP's reader gets them; recv() sees the frames the TAP's writer injected
 * (frames the kernel itself transmits are skipped). Batch-shaped like the
 * devices; non-blocking; send() stops at EAGAIN and returns the count taken.
 * Open it in the interface's namespace (enterNetworkNamespace).
 */
export class PacketSocket {
  private readonly handle: FdHandle;
  private readonly slotList = new SlotList();

  constructor(readonly interfaceName: string) {
    const binding = nativeBinding();
    this.handle = new binding.FdHandle(binding.packetOpen(interfaceName), () => {});
  }

  send(batch: PacketBatch, slots: ArrayLike<number>, n: number): number {
    checkSlots(batch, slots, n);
    return nativeBinding().packetSend(
      this.handle.fd,
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
      this.handle.fd,
      batch.buffer,
      batch.slotSize,
      batch.capacity,
      batch.offsets,
      batch.lengths,
      headroom,
    );
  }

  close(): void {
    this.handle.close();
  }
}
