import type { KernelLink } from './kernel-link.js';

/**
 * How dvs marks the kernel devices it owns, so that an agent that restarts
 * finds them (adopts what matches its tables, deletes what is stale) and never
 * touches anyone else's:
 *  - the name: `dvsbr<vni>` for a network's bridge, `dvsvx<vni>` for its
 *    vxlan device (`dvsvx` alone, no VNI, for a device in external mode);
 *  - the alias (IFLA_IFALIAS, `ip link show` prints it): `dvs:` and what the
 *    owner wants to find again (`dvs:vni=100 role=vxlan`).
 * The alias is the mark that counts; a name alone may be anyone's.
 */
export const DVS_LINK_ALIAS_PREFIX = 'dvs:';
export const DVS_LINK_NAME_PREFIX = 'dvs';

export type DvsLinkRole = 'bridge' | 'vxlan';

const ROLE_TAG: Record<DvsLinkRole, string> = { bridge: 'br', vxlan: 'vx' };

/** 'dvsbr100', 'dvsvx100'; without a VNI (external mode) 'dvsvx'. At most 13 bytes. */
export function dvsLinkName(role: DvsLinkRole, vni?: number): string {
  return `${DVS_LINK_NAME_PREFIX}${ROLE_TAG[role]}${vni ?? ''}`;
}

/** The role and VNI a dvs link name says, or null for any other name. */
export function parseDvsLinkName(name: string): { role: DvsLinkRole; vni: number | null } | null {
  const m = /^dvs(br|vx)(0|[1-9][0-9]{0,7})?$/.exec(name);
  if (m === null) return null;
  return { role: m[1] === 'br' ? 'bridge' : 'vxlan', vni: m[2] === undefined ? null : Number(m[2]) };
}

/** 'dvs:' + tag. */
export function dvsLinkAlias(tag: string): string {
  return `${DVS_LINK_ALIAS_PREFIX}${tag}`;
}

/** The link carries dvs's mark (its alias starts with 'dvs:'). */
export function isDvsLink(link: Pick<KernelLink, 'alias'>): boolean {
  return link.alias.startsWith(DVS_LINK_ALIAS_PREFIX);
}
