import type { NetnsLab } from './netns-lab.js';

export interface GarbageOptions {
  vxlanPort: number;
  grePort: number;
  /** A VNI the target knows (truncated headers carry it). */
  knownVni: number;
  /** Source address (must be configured in the namespace); default: routing picks. */
  from?: string;
  /** Send only well-formed VXLAN for knownVni (to provoke unknown-vtep from a stranger). */
  onlyValid?: boolean;
}

/** How many packets of each certain kind were sent (random ones beyond these are uncounted). */
export interface GarbageSent {
  malformed: number;
  unknownVni: number;
  total: number;
}

/**
 * Sends garbage at a VTEP from inside `ns` with node:dgram: pseudo-random
 * payloads (VXLAN I flag forced clear: certainly malformed), truncated VXLAN and
 * GRE headers, GRE with the K bit clear, inner frames shorter than an
 * Ethernet header, and VXLAN with an unknown VNI.
 */
export async function sendGarbage(lab: NetnsLab, ns: string, target: string, o: GarbageOptions): Promise<GarbageSent> {
  const vni = [(o.knownVni >> 16) & 255, (o.knownVni >> 8) & 255, o.knownVni & 255];
  const frame = [...Array(12).fill(0x02), 0x08, 0x00, ...Array(46).fill(0)];
  frame[6] = 0x02;
  const vxlan: number[][] = [];
  const gre: number[][] = [];
  let malformed = 0;
  let unknownVni = 0;
  if (o.onlyValid === true) {
    vxlan.push([0x08, 0, 0, 0, ...vni, 0, ...frame]);
  } else {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 255;
    for (let i = 0; i < 30; i++) {
      const p = Array.from({ length: 1 + ((i * 53) % 300) }, rnd);
      p[0] &= ~0x08;
      vxlan.push(p);
      malformed++;
      const g = Array.from({ length: 1 + ((i * 29) % 200) }, rnd);
      g[0] &= ~0x20;
      gre.push(g);
      malformed++;
    }
    for (let i = 0; i < 8; i++) vxlan.push([0x08, 0, 0, 0, ...vni].slice(0, i % 8));
    malformed += 8;
    for (let i = 0; i < 5; i++) vxlan.push([0x08, 0, 0, 0, ...vni, 0, ...Array(i * 3).fill(1)]);
    malformed += 5;
    for (let i = 0; i < 8; i++) gre.push([0x20, 0, 0x65, 0x58, ...vni, 0].slice(0, i));
    malformed += 8;
    for (let i = 0; i < 5; i++) vxlan.push([0x08, 0, 0, 0, 0x0f, 0x42, 0x3f, 0, ...frame]);
    unknownVni += 5;
  }
  const script = `
    const dgram = require('node:dgram');
    const [target, vxPort, grePort, from, vx, gr] = process.argv.slice(1);
    const s = dgram.createSocket('udp4');
    const go = async () => {
      for (const [list, port] of [[JSON.parse(vx), +vxPort], [JSON.parse(gr), +grePort]]) {
        for (const p of list) await new Promise((r, j) => s.send(Buffer.from(p), port, target, (e) => (e ? j(e) : r())));
      }
      s.close();
    };
    if (from) s.bind({ address: from, port: 0 }, go); else go();
  `;
  await lab.exec(ns, [
    process.execPath,
    '-e',
    script,
    target,
    String(o.vxlanPort),
    String(o.grePort),
    o.from ?? '',
    JSON.stringify(vxlan),
    JSON.stringify(gre),
  ]);
  return { malformed, unknownVni, total: vxlan.length + gre.length };
}
