/**
 * The receive side of a tunnel socket with UDP_GRO
 * (TunnelSocket.receivesSuperDatagrams): recv() lands in slots big enough
 * for a 64 KiB super-datagram, and each super-datagram goes to the pipeline
 * as a batch of its datagrams seen in place (SuperDatagramViews: no copy),
 * so the pipeline, and the coalescing behind a TAP port, see the same
 * datagrams as without GRO, in the same order. Runs of plain datagrams go as
 * one batch, as before; datagrams too small for a view (< 64 bytes) are
 * copied into `spill`. No pipeline batch holds more than `spill.capacity`
 * packets (the output queues' size). Nothing here allocates per datagram.
 */
import { SUPER_FRAME_SLOT_BYTES, SuperDatagramViews, type PacketBatch } from '@dvs/netdev';
import { HEADROOM, type Pipeline, type SocketTarget } from './pipeline.js';

export class SuperDatagramReceiver {
  private readonly views: SuperDatagramViews;

  /** `spill`: the data path's own receive batch (its capacity bounds every pipeline batch). */
  constructor(private readonly spill: PacketBatch) {
    this.views = new SuperDatagramViews(spill.capacity, HEADROOM + SUPER_FRAME_SLOT_BYTES);
  }

  /** The batch to recv() into, at HEADROOM. */
  get batch(): PacketBatch {
    return this.views.batch;
  }

  /** Switches what recv() put in slots 0..n-1 of `batch`, in order. */
  switch(pipeline: Pipeline, target: SocketTarget, n: number): void {
    const b = this.views.batch;
    const most = this.spill.capacity;
    let i = 0;
    while (i < n) {
      if (b.segmentSize[i] === 0) {
        let end = i + 1;
        while (end < n && b.segmentSize[end] === 0) end++;
        pipeline.processTunnelBatch(target, b, end, i);
        i = end;
        continue;
      }
      const count = this.views.datagramsIn(i);
      const view = this.views.view(i);
      if (view === null) this.switchCopies(pipeline, target, i, count);
      else {
        for (let first = 0; first < count; first += most) {
          pipeline.processTunnelBatch(target, view, Math.min(count, first + most), first);
        }
      }
      i++;
    }
  }

  private switchCopies(pipeline: Pipeline, target: SocketTarget, i: number, count: number): void {
    const spill = this.spill;
    let used = 0;
    for (let j = 0; j < count; j++) {
      if (this.views.copyDatagram(i, j, spill, used, HEADROOM)) used++;
      if (used === spill.capacity || (j === count - 1 && used > 0)) {
        pipeline.processTunnelBatch(target, spill, used);
        used = 0;
      }
    }
  }
}
