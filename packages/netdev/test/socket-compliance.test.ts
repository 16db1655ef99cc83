import { after, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { openDgramTunnelSocket, openTunnelSocket, openTunnelSocketSync, type TunnelSocket } from '../src/index.js';
import { LabNamespace } from '../src/testing/index.js';
import { tunnelSocketCompliance } from './compliance/tunnel-socket.js';

// Real kernel sockets on loopback (127.0.0.1 and ::1).

// A kernel UDP socket says EAGAIN only when its send buffer is full, which on
// a bare loopback never happens: the packets leave at once. So the native
// socket's EAGAIN test runs in a namespace of its own whose loopback has a
// token bucket (tc tbf: 800 kbit/s after a 1600-byte burst) that holds the
// packets, still charged to the sender, and a sender with the smallest send
// buffer: the kernel takes a few 1000-byte datagrams, refuses the rest, and
// says writable as the bucket drains them.
let ns: LabNamespace;
before(() => {
  ns = new LabNamespace(`dvn${process.pid}q`);
  ns.ip('link', 'set', 'lo', 'mtu', '1500');
  execFileSync('ip', [
    'netns',
    'exec',
    ns.name,
    'tc',
    'qdisc',
    'add',
    'dev',
    'lo',
    'root',
    'tbf',
    'rate',
    '800kbit',
    'burst',
    '1600',
    'limit',
    '1000000',
  ]);
});
after(() => ns.dispose());

/** A sender and its receiver as the suite's openSendLimited() returns them. */
function limitedPair(sender: TunnelSocket, receiver: TunnelSocket) {
  return {
    sender,
    receiver,
    // Both limits lift by themselves: the bucket drains, dgram's sends complete.
    release: () => {},
    close: () => {
      sender.close();
      receiver.close();
    },
  };
}

tunnelSocketCompliance('NativeTunnelSocket (sendmmsg/recvmmsg)', {
  open: (options) => openTunnelSocket(options),
  openSendLimited: async () => {
    const { sender, receiver } = ns.run(() => ({
      sender: openTunnelSocketSync({ address: '127.0.0.1', port: 0, sendBufferSize: 1 }),
      receiver: openTunnelSocketSync({ address: '127.0.0.1', port: 0 }),
    }));
    return limitedPair(sender, receiver);
  },
});

tunnelSocketCompliance('DgramTunnelSocket (node:dgram)', {
  open: (options) => openDgramTunnelSocket(options),
  // node:dgram has no EAGAIN of its own: its in-flight limit plays the kernel's part.
  openSendLimited: async () => {
    const sender = await openDgramTunnelSocket({ address: '127.0.0.1', port: 0, sendQueueLimit: 4 });
    return limitedPair(sender, await openDgramTunnelSocket({ address: '127.0.0.1', port: 0 }));
  },
});
