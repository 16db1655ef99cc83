import { enterNetworkNamespace, PacketBatch } from '@dvs/netdev';
import { PacketSocket } from '@dvs/netdev/testing';
import { buildArpRequest, decodeArp, parseIpv4Address, parseMac, pushVlanTag, readVlanId } from '@dvs/wire';

/**
 * The "VM side" of an interface driven from user space (AF_PACKET): sends
 * frames out of the interface and reads the frames written to it. Used where
 * the kernel cannot help (this CI kernel has no 802.1Q module, so a trunk VM
 * speaks tagged frames through it).
 */
export class RawPort {
  private readonly socket: PacketSocket;
  private readonly batch = new PacketBatch(64, 2048);

  constructor(
    ns: string,
    readonly ifname: string,
  ) {
    const restore = enterNetworkNamespace(ns);
    try {
      this.socket = new PacketSocket(ifname);
    } finally {
      restore();
    }
  }

  send(frame: Uint8Array): void {
    this.batch.buffer.set(frame, 0);
    this.batch.offsets[0] = 0;
    this.batch.lengths[0] = frame.length;
    if (this.socket.send(this.batch, [0], 1) !== 1) throw new Error(`send on ${this.ifname} refused`);
  }

  /** Polls received frames until `match` returns a value, or null after timeoutMs. */
  async receive<T>(match: (frame: Buffer) => T | null, timeoutMs = 2000): Promise<T | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const n = this.socket.recv(this.batch, 0);
      for (let i = 0; i < n; i++) {
        const start = this.batch.start(i);
        const v = match(this.batch.buffer.subarray(start, start + this.batch.lengths[i]));
        if (v !== null) return v;
      }
      if (n === 0) await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * ARPs for `targetIp` from (`mac`, `senderIp`) tagged with `vlan` and waits for
 * the reply. Resolves to the replying MAC and the VLAN the reply came in on,
 * or null when nobody answered.
 */
export async function arpOverVlan(
  port: RawPort,
  mac: string,
  senderIp: string,
  targetIp: string,
  vlan: number,
  timeoutMs = 1500,
): Promise<{ mac: number; vlan: number } | null> {
  const me = parseMac(mac) as number;
  const target = parseIpv4Address(targetIp) as number;
  const untagged = buildArpRequest(me, parseIpv4Address(senderIp) as number, target);
  const buf = Buffer.alloc(untagged.length + 4);
  untagged.copy(buf, 4);
  const start = pushVlanTag(buf, 4, untagged.length, vlan);
  const tagged = buf.subarray(start);
  for (let attempt = 0; attempt < 3; attempt++) {
    port.send(tagged);
    const reply = await port.receive((f) => {
      // The receive path moves a tag into packet metadata (VLAN offload), so a
      // tagged reply may show untagged here: vlan -1 then; check tags with a capture.
      const vid = readVlanId(f, 0, f.length);
      const off = vid >= 0 ? 18 : 14;
      if (vid < -1 || f.readUInt16BE(off - 2) !== 0x0806) return null;
      const arp = decodeArp(f, off, f.length - off);
      return arp !== null && arp.op === 2 && arp.senderIp === target && arp.targetMac === me
        ? { mac: arp.senderMac, vlan: vid }
        : null;
    }, timeoutMs / 3);
    if (reply !== null) return reply;
  }
  return null;
}
