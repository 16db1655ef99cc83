import { isValidVlanId, isValidVni } from '@dvs/wire';

/**
 * The text form of a port's VNI mapping, shared by flags (`--port`), the admin
 * socket (`ports/add`) and the docs:
 *   "100"                     access port in VNI 100
 *   "trunk:10=100,20=200"     trunk port: VLAN 10 → VNI 100, VLAN 20 → VNI 200
 * Returns the mapping, or a string saying what is wrong.
 */
export type PortMapping = { mode: 'access'; vni: number } | { mode: 'trunk'; vlans: Map<number, number> };

export function parsePortMapping(text: string): PortMapping | string {
  if (/^\d+$/.test(text)) {
    const vni = Number(text);
    return isValidVni(vni) ? { mode: 'access', vni } : `VNI ${text} is out of range 1..16777215`;
  }
  const m = /^trunk:(.+)$/.exec(text);
  if (m === null) return `"${text}" is neither a VNI nor trunk:<vlan>=<vni>,…`;
  const vlans = new Map<number, number>();
  const vnis = new Set<number>();
  for (const pair of m[1].split(',')) {
    const p = /^(\d+)=(\d+)$/.exec(pair);
    if (p === null) return `"${pair}" is not <vlan>=<vni>`;
    const vlan = Number(p[1]);
    const vni = Number(p[2]);
    if (!isValidVlanId(vlan)) return `VLAN ${p[1]} is out of range 1..4094`;
    if (!isValidVni(vni)) return `VNI ${p[2]} is out of range 1..16777215`;
    if (vlans.has(vlan)) return `VLAN ${vlan} is mapped twice`;
    if (vnis.has(vni)) return `VNI ${vni} is mapped from two VLANs`;
    vlans.set(vlan, vni);
    vnis.add(vni);
  }
  return { mode: 'trunk', vlans };
}

export function formatPortMapping(mapping: PortMapping): string {
  if (mapping.mode === 'access') return String(mapping.vni);
  return 'trunk:' + [...mapping.vlans].map(([vlan, vni]) => `${vlan}=${vni}`).join(',');
}
