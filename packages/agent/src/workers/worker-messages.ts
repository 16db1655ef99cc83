/**
 * What the main thread and a data-path worker say to each other over the
 * worker's MessagePort (structured clones; docs/multi-core.md). The main
 * thread is the only writer of the tables: it posts every batch of changes
 * to every worker in the same order, numbered by a generation; a worker
 * applies a batch between its frame batches (a message is handled only when
 * the event loop is between callbacks), so a frame batch sees one table.
 */
import type { CountersSnapshot, Encap } from '@dvs/wire';
import type { SourcePortPoolOptions } from '@dvs/netdev';
import type { BatchTally } from './batch-tally.js';
import type { ApplyResult, DataPathEvents, TableChange } from '../datapath/control-surface.js';

/** Everything a worker needs to open its queue and socket and run its pipeline (its workerData). */
export interface WorkerSetup {
  /** 0..N-1: which worker this is (names its counters and logs). */
  index: number;
  /** The multi-queue TAP the worker opens one queue of, and the port it becomes. */
  tap: {
    name: string;
    /** The VNI of the access port. */
    vni: number;
    /** Set on the open that creates the TAP (the first worker's); later opens leave it. */
    mtu?: number;
    /** virtio-net headers and TSO, segmented by the pipeline (SegmentingPortDevice). */
    offloads: boolean;
  };
  /** The worker's own tunnel socket: SO_REUSEPORT on the same address and port as the other workers'. */
  tunnel: {
    encap: Encap;
    address: string;
    port: number;
    /**
     * Per-flow outer source ports; null: send from `port`. Each worker opens
     * its own pool: give a range ({ min, max }, bound by every worker with
     * SO_REUSEPORT), so a flow leaves from the same port whichever worker
     * sends it. With a count, each worker gets other ephemeral ports, and a
     * flow that moves between workers (the TAP steers a flow to the queue its
     * replies were written to) changes its outer port, lands on another
     * worker at the peer, and its segments are reordered: the workers bench
     * measured thousands of TCP retransmits so, none with a shared range.
     */
    sourcePorts: SourcePortPoolOptions | null;
    /** UDP_GRO. */
    receiveOffload: boolean;
  };
  /**
   * A network namespace (name under /var/run/netns, or a path) the worker
   * thread enters before it opens anything; absent: the one the thread was
   * started in (the process's).
   */
  netns?: string;
  /** DataPath aging timer (default true). */
  agingTimer?: boolean;
}

/** What one worker carried: the device and socket counters and its pipeline's snapshot. */
export interface WorkerCounters {
  index: number;
  /** Reads from its TAP queue (a super-frame with offloads counts once). */
  tapReads: number;
  /** Frames written to its TAP queue. */
  tapWrites: number;
  tunnelPacketsReceived: number;
  tunnelPacketsSent: number;
  /** The worker's event loop since it started (performance.eventLoopUtilization): ms busy and ms idle. */
  loopActiveMs: number;
  loopIdleMs: number;
  /** Calls of its TAP queue's read() and of its socket's recv(): how full its batches are (batch-tally.ts). */
  tapReadBatches: BatchTally;
  tunnelRecvBatches: BatchTally;
  dataPath: CountersSnapshot;
}

export type ToWorker =
  | { kind: 'tables:apply'; generation: number; changes: readonly TableChange[] }
  | { kind: 'counters:ask'; id: number }
  | { kind: 'worker:stop' };

export type FromWorker =
  | { kind: 'worker:ready'; index: number }
  | { kind: 'worker:failed'; index: number; code: string; message: string }
  | { kind: 'tables:applied'; index: number; generation: number; result: ApplyResult }
  | { kind: 'counters:report'; id: number; counters: WorkerCounters }
  /** A MAC this worker learned on its port (the main thread decides and reports; the worker switches on at once). */
  | { kind: 'mac:local'; index: number; event: DataPathEvents['mac:local'] }
  | { kind: 'worker:stopped'; index: number };
