/**
 * A data-path worker (node:worker_threads entry; WorkerPool starts it). It
 * opens one queue of the multi-queue TAP and its own SO_REUSEPORT tunnel
 * socket, runs today's DataPath on them on its own event loop, and applies
 * the table changes the main thread posts, in the order posted. It imports
 * the data path and netdev only, never the control plane.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import {
  enterNetworkNamespace,
  openTap,
  openTunnelSocket,
  type FrameDevice,
  type TapDevice,
  type TunnelSocket,
} from '@dvs/netdev';
import { DataPath } from '../datapath/data-path.js';
import { SegmentingPortDevice, hasHeaders } from '../datapath/segmenting-port-device.js';
import { newBatchTally, tallied } from './batch-tally.js';
import type { FromWorker, ToWorker, WorkerCounters, WorkerSetup } from './worker-messages.js';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (port === null) throw new Error('worker-thread.js runs as a worker thread (WorkerPool starts it)');

const post = (message: FromWorker): void => port.postMessage(message);

let tap: TapDevice | null = null;
let socket: TunnelSocket | null = null;
let dataPath: DataPath | null = null;
const tapTally = newBatchTally();
const recvTally = newBatchTally();

async function start(): Promise<void> {
  // setns is per thread: this worker stays there (its devices with it); no switch back.
  if (setup.netns !== undefined) enterNetworkNamespace(setup.netns);
  tap = await openTap({
    name: setup.tap.name,
    multiQueue: true,
    up: true,
    ...(setup.tap.mtu !== undefined ? { mtu: setup.tap.mtu } : {}),
    ...(setup.tap.offloads ? { offloads: true } : {}),
  });
  socket = await openTunnelSocket({
    address: setup.tunnel.address,
    port: setup.tunnel.port,
    reusePort: true,
    recvBufferSize: 4 << 20,
    sendBufferSize: 4 << 20,
    ...(setup.tunnel.sourcePorts !== null ? { sourcePorts: setup.tunnel.sourcePorts } : {}),
    ...(setup.tunnel.receiveOffload ? { receiveOffload: true } : {}),
  });
  const queue = tallied(tap, 'read', tapTally);
  const device: FrameDevice = hasHeaders(queue) ? new SegmentingPortDevice(queue) : queue;
  dataPath = new DataPath({ agingTimer: setup.agingTimer ?? true });
  dataPath.attachSocket(setup.tunnel.encap, tallied(socket, 'recv', recvTally));
  dataPath.addPort({ name: setup.tap.name, mode: 'access', vni: setup.tap.vni }, device);
  dataPath.on('mac:local', (event) => post({ kind: 'mac:local', index: setup.index, event }));
  dataPath.start();
}

function counters(): WorkerCounters {
  const loop = performance.eventLoopUtilization();
  return {
    index: setup.index,
    tapReads: tap?.stats.framesRead ?? 0,
    tapWrites: tap?.stats.framesWritten ?? 0,
    tunnelPacketsReceived: socket?.stats?.packetsReceived ?? 0,
    tunnelPacketsSent: socket?.stats?.packetsSent ?? 0,
    loopActiveMs: loop.active,
    loopIdleMs: loop.idle,
    tapReadBatches: { ...tapTally },
    tunnelRecvBatches: { ...recvTally },
    // A structured clone carries plain data only.
    dataPath: JSON.parse(JSON.stringify(dataPath?.counters() ?? null)) as WorkerCounters['dataPath'],
  };
}

function stop(): void {
  dataPath?.stop();
  tap?.close();
  socket?.close();
  post({ kind: 'worker:stopped', index: setup.index });
  port?.close();
}

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'tables:apply': {
      const result = dataPath?.apply(message.changes) ?? { applied: 0, rejected: [] };
      post({ kind: 'tables:applied', index: setup.index, generation: message.generation, result });
      return;
    }
    case 'counters:ask':
      post({ kind: 'counters:report', id: message.id, counters: counters() });
      return;
    case 'worker:stop':
      stop();
      return;
  }
});

start().then(
  () => post({ kind: 'worker:ready', index: setup.index }),
  (err: unknown) => {
    const e = err as { code?: unknown; message?: unknown };
    post({
      kind: 'worker:failed',
      index: setup.index,
      code: typeof e.code === 'string' ? e.code : 'DVS_IO',
      message: String(e.message ?? err),
    });
    tap?.close();
    socket?.close();
  },
);
