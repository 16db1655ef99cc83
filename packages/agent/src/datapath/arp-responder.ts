/**
 * ARP and IPv6 ND suppression, step 4b of a frame from a local port (see
 * pipeline.ts): after its source MAC was learned, before its destination is
 * looked up. Allocates nothing per frame (datapath-alloc.test.ts switches
 * ARP requests and NSs through it).
 *
 * Learning (always, whatever the network's setting): an ARP request or reply
 * (gratuitous ones included) binds its sender IP to its sender MAC; an NS
 * from a unicast source binds that source to its source link-layer option;
 * an NA binds its target to its target link-layer option. Only a MAC that is
 * the frame's own Ethernet source and that the FDB holds on this very port is
 * bound: a port speaks for its own MACs, never for someone else's. One
 * exception, as DHCP snooping has it: a DHCPACK from a local port (a DHCP
 * server there) binds the address it gives (yiaddr) to its client (chaddr),
 * when the FDB knows the client. The binding table is ip-bindings.ts (first
 * one wins, conflicts counted).
 *
 * Answering (only with the network's `arpSuppression` on): a broadcast ARP
 * request, or an NS to a multicast (solicited-node) address, for an IP whose
 * binding is live is answered from the table: the frame is rewritten in
 * place into the reply its owner would send (@dvs/wire writeArpReplyInPlace,
 * writeNeighborAdvertisementInPlace) and goes back out of the port it came
 * in by; nothing crosses the overlay. An IP the table does not know is
 * flooded as before (counted `flooded`). Never answered: unicast requests
 * and NSs (a neighbour checking that the owner is still alive must reach the
 * owner), ARP probes and DAD (sender 0.0.0.0 or ::), gratuitous ARP, a
 * request for the requester's own MAC, and a request whose target sits
 * behind the same port (it answers for itself).
 */
import {
  ARP_OP_OFFSET,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ARP_SENDER_IP_OFFSET,
  ARP_SENDER_MAC_OFFSET,
  ARP_TARGET_IP_OFFSET,
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  DHCP_CHADDR_OFFSET,
  DHCP_YIADDR_OFFSET,
  IP_PROTOCOL_UDP,
  dhcpAckAt,
  ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_TYPE_NEIGHBOR_SOLICITATION,
  IPV6_HEADER_LENGTH,
  IPV6_SRC_OFFSET,
  IP_PROTOCOL_ICMPV6,
  ND_INVALID,
  ND_MESSAGE_LENGTH,
  ND_NO_LINK_LAYER_OPTION,
  checkNeighborMessage,
  isEthernetIpv4Arp,
  writeArpReplyInPlace,
  writeNeighborAdvertisementInPlace,
} from '@dvs/wire';
import { BindResult, type IpBinding, type IpBindings } from './ip-bindings.js';
import type { NetworkState } from './network.js';
import type { Port } from './port.js';

/** handle()'s answer when the frame is to be switched as usual. */
export const NOT_ANSWERED = -1;

/** Offsets from the start of the Ethernet frame. */
const IPV6_AT = ETHERNET_HEADER_LENGTH;
const ND_AT = ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH;
const ND_TARGET_AT = ND_AT + 8;
const ND_MIN_FRAME = ND_AT + ND_MESSAGE_LENGTH;
const IPV4_PROTOCOL_AT = ETHERNET_HEADER_LENGTH + 9;

/** Whom the responder tells of a new binding (the data path queues it as an `ip:bound` event). */
export interface BindingListener {
  ipBound(net: NetworkState, binding: IpBinding, port: Port): void;
}

function high24(buf: Uint8Array, off: number): number {
  return (buf[off] << 16) | (buf[off + 1] << 8) | buf[off + 2];
}
function low24(buf: Uint8Array, off: number): number {
  return (buf[off + 3] << 16) | (buf[off + 4] << 8) | buf[off + 5];
}
function high16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}
function isZero(buf: Uint8Array, off: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (buf[off + k] !== 0) return false;
  return true;
}

export class ArpResponder {
  constructor(private readonly listener: BindingListener) {}

  /**
   * Learns from and maybe answers the frame at `off` (`len` bytes, untagged)
   * that `port` sent into `net`. Returns the length of the answer now
   * standing in place of the frame (to be sent back out of `port`), or
   * NOT_ANSWERED. In a dry run (`trace`) it answers as it would, but learns
   * nothing and counts nothing.
   */
  handle(net: NetworkState, port: Port, buf: Buffer, off: number, len: number, now: number, dryRun: boolean): number {
    const ethertype = (buf[off + 12] << 8) | buf[off + 13];
    if (ethertype === ETHERTYPE_ARP) return this.arp(net, port, buf, off, len, now, dryRun);
    if (ethertype === ETHERTYPE_IPV4) {
      if (!dryRun && len > IPV4_PROTOCOL_AT && buf[off + IPV4_PROTOCOL_AT] === IP_PROTOCOL_UDP) {
        this.dhcp(net, buf, off, len, now);
      }
      return NOT_ANSWERED;
    }
    if (ethertype !== ETHERTYPE_IPV6 || len < ND_MIN_FRAME || buf[off + IPV6_AT + 6] !== IP_PROTOCOL_ICMPV6) {
      return NOT_ANSWERED;
    }
    const type = buf[off + ND_AT];
    if (type !== ICMPV6_TYPE_NEIGHBOR_SOLICITATION && type !== ICMPV6_TYPE_NEIGHBOR_ADVERTISEMENT) return NOT_ANSWERED;
    return this.neighbor(net, port, buf, off, len, now, dryRun, type);
  }

  private arp(
    net: NetworkState,
    port: Port,
    buf: Buffer,
    off: number,
    len: number,
    now: number,
    dryRun: boolean,
  ): number {
    const p = off + ETHERNET_HEADER_LENGTH;
    if (!isEthernetIpv4Arp(buf, p, len - ETHERNET_HEADER_LENGTH)) return NOT_ANSWERED;
    const op = high16(buf, p + ARP_OP_OFFSET);
    if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return NOT_ANSWERED;
    const senderHigh = high24(buf, p + ARP_SENDER_MAC_OFFSET);
    const senderLow = low24(buf, p + ARP_SENDER_MAC_OFFSET);
    const ipHigh = high16(buf, p + ARP_SENDER_IP_OFFSET);
    const ipLow = high16(buf, p + ARP_SENDER_IP_OFFSET + 2);
    const probe = ipHigh === 0 && ipLow === 0;
    if (!dryRun && !probe && this.speaksFor(net, port, buf, off, senderHigh, senderLow)) {
      const result = net.bindings.bindV4(ipHigh, ipLow, senderHigh, senderLow, 'local', now);
      if (result === BindResult.Bound) this.listener.ipBound(net, net.bindings.lastBound as IpBinding, port);
    }
    if (op !== ARP_OP_REQUEST || net.spec.arpSuppression !== true || probe || !isBroadcastAt(buf, off)) {
      return NOT_ANSWERED;
    }
    const targetHigh = high16(buf, p + ARP_TARGET_IP_OFFSET);
    const targetLow = high16(buf, p + ARP_TARGET_IP_OFFSET + 2);
    if (targetHigh === ipHigh && targetLow === ipLow) return NOT_ANSWERED; // gratuitous
    const binding = net.bindings.lookupV4(targetHigh, targetLow);
    if (!this.answerable(net.bindings, binding, port, senderHigh, senderLow, dryRun)) return NOT_ANSWERED;
    const written = writeArpReplyInPlace(buf, off, (binding as IpBinding).macHigh, (binding as IpBinding).macLow);
    if (written < 0) return NOT_ANSWERED;
    if (!dryRun) net.bindings.counters.answered++;
    return written;
  }

  private neighbor(
    net: NetworkState,
    port: Port,
    buf: Buffer,
    off: number,
    len: number,
    now: number,
    dryRun: boolean,
    type: number,
  ): number {
    const option = checkNeighborMessage(buf, off + IPV6_AT, len - IPV6_AT);
    if (option === ND_INVALID) return NOT_ANSWERED;
    const at = option === ND_NO_LINK_LAYER_OPTION ? off + 6 : option;
    const macHigh = high24(buf, at);
    const macLow = low24(buf, at);
    const solicitation = type === ICMPV6_TYPE_NEIGHBOR_SOLICITATION;
    const source = off + IPV6_AT + IPV6_SRC_OFFSET;
    const dad = solicitation && isZero(buf, source, 16);
    if (!dryRun && !dad && this.speaksFor(net, port, buf, off, macHigh, macLow)) {
      // An NS speaks for its source address, an NA for its target.
      const ip = solicitation ? source : off + ND_TARGET_AT;
      const result = net.bindings.bindV6(buf, ip, macHigh, macLow, 'local', now);
      if (result === BindResult.Bound) this.listener.ipBound(net, net.bindings.lastBound as IpBinding, port);
    }
    if (!solicitation || dad || net.spec.arpSuppression !== true || (buf[off] & 1) === 0) return NOT_ANSWERED;
    const binding = net.bindings.lookupV6(buf, off + ND_TARGET_AT);
    if (!this.answerable(net.bindings, binding, port, high24(buf, off + 6), low24(buf, off + 6), dryRun)) {
      return NOT_ANSWERED;
    }
    const written = writeNeighborAdvertisementInPlace(
      buf,
      off,
      (binding as IpBinding).macHigh,
      (binding as IpBinding).macLow,
    );
    if (written < 0) return NOT_ANSWERED;
    if (!dryRun) net.bindings.counters.answered++;
    return written;
  }

  /** A DHCPACK: its client (chaddr), when the FDB knows it, owns the address given (yiaddr). */
  private dhcp(net: NetworkState, buf: Buffer, off: number, len: number, now: number): void {
    const m = dhcpAckAt(buf, off + ETHERNET_HEADER_LENGTH, len - ETHERNET_HEADER_LENGTH);
    if (m < 0) return;
    const clientHigh = high24(buf, m + DHCP_CHADDR_OFFSET);
    const clientLow = low24(buf, m + DHCP_CHADDR_OFFSET);
    const client = net.fdb.lookupHalves(clientHigh, clientLow);
    const ipHigh = high16(buf, m + DHCP_YIADDR_OFFSET);
    const ipLow = high16(buf, m + DHCP_YIADDR_OFFSET + 2);
    if (client === undefined || (ipHigh === 0 && ipLow === 0)) return;
    const result = net.bindings.bindV4(ipHigh, ipLow, clientHigh, clientLow, 'local', now);
    if (result === BindResult.Bound && client.local) {
      this.listener.ipBound(net, net.bindings.lastBound as IpBinding, client.location as Port);
    }
  }

  /** The frame's Ethernet source is the claimed MAC, and the FDB holds it on `port`. */
  private speaksFor(net: NetworkState, port: Port, buf: Buffer, off: number, high: number, low: number): boolean {
    if (high24(buf, off + 6) !== high || low24(buf, off + 6) !== low) return false;
    const entry = net.fdb.lookupHalves(high, low);
    return entry !== undefined && entry.location === port;
  }

  /** Whether a request from the MAC `high`:`low` on `port` gets its answer from `binding`; counts a flood when not known. */
  private answerable(
    bindings: IpBindings,
    binding: IpBinding | undefined,
    port: Port,
    high: number,
    low: number,
    dryRun: boolean,
  ): boolean {
    const owner = binding === undefined ? undefined : bindings.ownerEntry(binding);
    if (owner === undefined) {
      if (!dryRun) bindings.counters.flooded++;
      return false;
    }
    const b = binding as IpBinding;
    if (b.macHigh === high && b.macLow === low) return false;
    return owner.location !== port;
  }
}

/** ff:ff:ff:ff:ff:ff at `off`. */
function isBroadcastAt(buf: Uint8Array, off: number): boolean {
  return (buf[off] & buf[off + 1] & buf[off + 2] & buf[off + 3] & buf[off + 4] & buf[off + 5]) === 0xff;
}
