/**
 * The MTU range this package accepts for a device it creates or changes (a
 * TAP, a bridge, a vxlan device): IPv4's minimum to the largest value the
 * kernel's MTU field takes. A driver may allow less (its max_mtu); the kernel
 * then refuses the value itself.
 */
export const LINK_MTU_MIN = 68;
export const LINK_MTU_MAX = 65535;

export function isLinkMtu(mtu: unknown): mtu is number {
  return Number.isInteger(mtu) && (mtu as number) >= LINK_MTU_MIN && (mtu as number) <= LINK_MTU_MAX;
}
