/**
 * The agent's `sockets/show`: its tunnel sockets and what the kernel took
 * (UDP_GRO on receive, UDP GSO on send), with their datagram counts. It is
 * where `offloads: off`, or a kernel that refused UDP_GRO, shows on the wire
 * side; ports/show shows the TAP side.
 */
import type { Encap, TunnelSocketView } from '@dvs/wire';
import type { TunnelSocket } from '@dvs/netdev';
import type { CommandRegistry } from './command-registry.js';
import { table } from './render-text.js';

export interface OpenTunnelSocket {
  encap: Encap | 'probe';
  socket: TunnelSocket;
}

export function describeTunnelSocket({ encap, socket }: OpenTunnelSocket): TunnelSocketView {
  const s = socket.stats;
  return {
    encap,
    address: socket.localAddress,
    port: socket.localPort,
    receive: socket.receivesSuperDatagrams === true ? 'gro' : 'plain',
    send: s?.sendSegmentation ?? 'plain',
    datagramsIn: s?.packetsReceived ?? 0,
    datagramsOut: s?.packetsSent ?? 0,
    groMessages: s?.recvGroMessages ?? 0,
    gsoMessages: s?.sendGsoMessages ?? 0,
  };
}

export function registerSocketCommands(registry: CommandRegistry, sockets: () => readonly OpenTunnelSocket[]): void {
  registry.register({
    name: 'sockets/show',
    usage: 'sockets/show',
    summary: 'tunnel sockets: encap, address, UDP_GRO on receive and UDP GSO on send (gro/gso or plain), datagrams',
    minArgs: 0,
    maxArgs: 0,
    run: () => {
      const views = sockets().map(describeTunnelSocket);
      return { text: renderSockets(views), data: views };
    },
  });
}

function renderSockets(views: readonly TunnelSocketView[]): string {
  if (views.length === 0) return 'no tunnel sockets\n';
  return table(
    ['ENCAP', 'ADDRESS', 'RECEIVE', 'SEND', 'DATAGRAMS IN', 'GRO READS', 'DATAGRAMS OUT', 'GSO SENDS'],
    views.map((v) => [
      v.encap,
      `${v.address}:${v.port}`,
      v.receive,
      v.send,
      v.datagramsIn,
      v.groMessages,
      v.datagramsOut,
      v.gsoMessages,
    ]),
  );
}
