import { openDgramTunnelSocket, openTunnelSocket } from '../src/index.js';
import { tunnelSocketCompliance } from './compliance/tunnel-socket.js';

// Real kernel sockets on loopback (127.0.0.1 and ::1).

tunnelSocketCompliance('NativeTunnelSocket (sendmmsg/recvmmsg)', {
  open: (options) => openTunnelSocket(options),
});

tunnelSocketCompliance('DgramTunnelSocket (node:dgram)', {
  open: (options) => openDgramTunnelSocket(options),
  // node:dgram has no EAGAIN of its own: its in-flight limit plays the kernel's part.
  openWithSendLimit: async (options, budget) => ({
    socket: await openDgramTunnelSocket({ ...options, sendQueueLimit: budget }),
    release: () => {},
  }),
});
