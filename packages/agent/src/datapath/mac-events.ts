/**
 * The pipeline's learns, moves and evictions as queued MAC events (rare:
 * never per frame in steady state). The DataPath delivers the queue after
 * each batch (DataPath.deliverEvents).
 */
import type { DataPathEvents } from './control-surface.js';
import { localPortOf, type FdbLocation } from './fdb.js';
import type { PipelineListener } from './pipeline-io.js';
import { Port } from './port.js';

/** A MAC event waiting for the end of its batch. */
export type QueuedEvent = {
  [K in keyof DataPathEvents]: { name: K; payload: DataPathEvents[K] };
}[keyof DataPathEvents];

/** A listener that queues on `queue`; `conflict` is told of learn conflicts. */
export function macEventQueue(queue: QueuedEvent[], conflict: PipelineListener['conflict']): PipelineListener {
  const name = (loc: FdbLocation): string => (loc instanceof Port ? loc.name : loc.id);
  return {
    learnedLocal: (net, mac, port, seq, movedFrom) => {
      queue.push({ name: 'mac:local', payload: { vni: net.vni, mac, port: port.name, seq } });
      if (movedFrom !== null)
        queue.push({ name: 'mac:move', payload: { vni: net.vni, mac, from: name(movedFrom), to: port.name } });
    },
    learnedRemote: (net, mac, peer, movedFrom) => {
      if (movedFrom === null) return;
      queue.push({ name: 'mac:move', payload: { vni: net.vni, mac, from: name(movedFrom), to: peer.id } });
      // Learning alone (static peers) lets go of the local port; a provisional move keeps it as home (fdb.ts).
      const entry = net.fdb.lookup(mac);
      if (movedFrom instanceof Port && entry !== undefined && localPortOf(entry) === null)
        queue.push({ name: 'mac:gone', payload: { vni: net.vni, mac, port: movedFrom.name } });
    },
    conflict,
    ipBound: (net, binding, port) => {
      queue.push({ name: 'ip:bound', payload: { vni: net.vni, mac: binding.mac, ip: binding.ip, port: port.name } });
    },
    evicted: (net, mac, location) => {
      if (location instanceof Port)
        queue.push({ name: 'mac:gone', payload: { vni: net.vni, mac, port: location.name } });
    },
  };
}
