import { nativeBinding } from './native-binding.js';
import type { NativeLinkRecord } from './native-binding.js';
import { toNetdevError } from './system-error.js';
import { checkInterfaceName } from './tap-device.js';

/**
 * What the host says about one network device (a "link" in rtnetlink's word),
 * read over rtnetlink in the calling thread's network namespace.
 *
 * `kind` is the driver's IFLA_INFO_KIND with two refinements: a `tun` device
 * in TAP mode is 'tap' ('tun' stays for layer-3 TUN devices), and a device
 * with no kind is 'physical' when it is Ethernet (a NIC driver) and 'loopback'
 * for lo. Common values: 'tap', 'tun', 'veth', 'macvlan', 'macvtap', 'bridge',
 * 'vxlan', 'bond', 'vlan', 'dummy', 'physical', 'loopback'.
 */
export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  readonly mtu: number;
  readonly kind: string;
  /** Link-layer address, 'xx:xx:…' ('' when the device has none). */
  readonly mac: string;
  /** Administratively up (IFF_UP, `ip link set … up`). */
  readonly adminUp: boolean;
  /** The lower layer is up (IFF_LOWER_UP): a TAP has a process holding it, a veth's peer is up. */
  readonly carrier: boolean;
  /** Frames can flow: admin up and operationally up or unknown (IFF_UP and IFF_RUNNING). */
  readonly up: boolean;
  /** RFC 2863 operational state (IFLA_OPERSTATE). */
  readonly operState: OperState;
  /** An Ethernet device (ARPHRD_ETHER): the only kind that can be a port. */
  readonly ethernet: boolean;
  readonly loopback: boolean;
  /** ifindex of the bridge/bond this device is enslaved to; 0 when none. */
  readonly masterIndex: number;
  /** ifindex of the device under it (a macvlan's lower device, a veth's peer); 0 when none or in another namespace. */
  readonly parentIndex: number;
}

export type OperState = 'unknown' | 'notpresent' | 'down' | 'lowerlayerdown' | 'testing' | 'dormant' | 'up';

/** describeLink()'s answer: the link, or the fact that no link has that name here. */
export type LinkDescription = ({ exists: true } & LinkInfo) | { exists: false; name: string };

const OPER_STATES: readonly OperState[] = [
  'unknown',
  'notpresent',
  'down',
  'lowerlayerdown',
  'testing',
  'dormant',
  'up',
];
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;
const TUN_TYPE_TAP = 2;

/** @internal Turns the addon's record into a LinkInfo. */
export function linkInfoOf(r: NativeLinkRecord): LinkInfo {
  const loopback = (r.flags & IFF_LOOPBACK) !== 0 || r.type === ARPHRD_LOOPBACK;
  const ethernet = r.type === ARPHRD_ETHER;
  let kind = r.kind;
  if (kind === 'tun' && r.tunType === TUN_TYPE_TAP) kind = 'tap';
  else if (kind === '') kind = loopback ? 'loopback' : ethernet ? 'physical' : 'unknown';
  const adminUp = (r.flags & IFF_UP) !== 0;
  return {
    ifindex: r.ifindex,
    name: r.name,
    mtu: r.mtu,
    kind,
    mac: r.mac,
    adminUp,
    carrier: (r.flags & IFF_LOWER_UP) !== 0,
    up: adminUp && (r.flags & IFF_RUNNING) !== 0,
    operState: OPER_STATES[r.operState] ?? 'unknown',
    ethernet,
    loopback,
    masterIndex: r.master,
    parentIndex: r.parent,
  };
}

/**
 * One link by name, read now over rtnetlink in this thread's network
 * namespace (run it inside the namespace, like openAttachedDevice). Throws
 * NetdevError DVS_NAME_TOO_LONG / DVS_NAME_INVALID for a name no device can
 * have; a valid name with no device is `{ exists: false }`.
 */
export function describeLink(name: string): LinkDescription {
  checkInterfaceName(name);
  let records: NativeLinkRecord[];
  try {
    records = nativeBinding().linkQuery(name);
  } catch (err) {
    throw toNetdevError(err, `describe link ${name}`);
  }
  const record = records.find((r) => r.name === name);
  return record === undefined ? { exists: false, name } : { exists: true, ...linkInfoOf(record) };
}

/** Every link of this thread's network namespace, by ifindex. */
export function listLinks(): LinkInfo[] {
  try {
    return nativeBinding()
      .linkQuery('')
      .map(linkInfoOf)
      .sort((a, b) => a.ifindex - b.ifindex);
  } catch (err) {
    throw toNetdevError(err, 'list links');
  }
}
