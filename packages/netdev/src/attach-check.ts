import { NetdevError } from './errors.js';
import type { LinkDescription, LinkInfo } from './link-info.js';

/**
 * Which devices can be attached as a port, and the refusals with their codes:
 * the one rule the real attached device and the fake one both apply.
 *  - none of that name here: DVS_NO_DEVICE (a device in another network
 *    namespace is exactly that, from here);
 *  - the loopback, or a device that does not carry Ethernet frames (a TUN,
 *    an IP tunnel): DVS_DEVICE_UNSUITABLE.
 */
export function checkAttachable(link: LinkDescription): asserts link is { exists: true } & LinkInfo {
  if (!link.exists) {
    throw new NetdevError(
      'DVS_NO_DEVICE',
      `no device ${link.name} in this network namespace: check the name with \`ip link show\` (a device in another namespace is not visible here; attach from inside that namespace)`,
    );
  }
  if (link.loopback) {
    throw new NetdevError(
      'DVS_DEVICE_UNSUITABLE',
      `${link.name} is the loopback device: attach an Ethernet device instead (a TAP, a veth end, a macvlan, a NIC)`,
    );
  }
  if (!link.ethernet) {
    throw new NetdevError(
      'DVS_DEVICE_UNSUITABLE',
      `${link.name} is not an Ethernet device (kind ${link.kind}): a port carries Ethernet frames; attach a TAP (not a TUN), a veth end, a macvlan or a NIC`,
    );
  }
}
