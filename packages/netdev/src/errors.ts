/**
 * Errors of @dvs/netdev. Callers match on `code`, never on the message.
 *
 *  DVS_NO_TUN_DEVICE   /dev/net/tun is missing (module not loaded, container without it)
 *  DVS_PERMISSION      not root / no CAP_NET_ADMIN (EPERM/EACCES from open or TUNSETIFF)
 *  DVS_NAME_IN_USE     the name belongs to a device that is not a TAP (EINVAL from TUNSETIFF)
 *  DVS_NAME_TOO_LONG   the name does not fit IFNAMSIZ - 1 (15 bytes)
 *  DVS_DEVICE_BUSY     the TAP exists and is attached to another fd (EBUSY)
 *  DVS_ADDRESS_INVALID an address that is not IPv4/IPv6 text, or a port out of range
 *  DVS_NAME_INVALID    empty, '.', '..', or containing '/', ':' or whitespace
 *  DVS_ADDRESS_IN_USE  bind(): EADDRINUSE
 *  DVS_ADDRESS_UNAVAILABLE bind(): EADDRNOTAVAIL (the address is not on this host)
 *  DVS_DEVICE_GONE     the device was deleted under us (a TAP: EBADFD on read/write;
 *                      an attached device: its ifindex was unregistered): close() it
 *  DVS_NO_DEVICE       no network device of that name in this network namespace
 *                      (attach; a device in another namespace does not exist here)
 *  DVS_DEVICE_UNSUITABLE the device cannot be a port: the loopback, or not Ethernet
 *                      (a TUN, an IP tunnel)
 *  DVS_CLOSED          the device or socket was used after close()
 *  DVS_NATIVE_UNAVAILABLE the native addon is not built (run the bootstrap)
 *  DVS_NETLINK_INVALID a netlink request we refuse before sending anything (the message
 *                      names the field: `changes[3].dst`, `vxlan.vni`); nothing changed
 *  DVS_NETLINK_EXISTS  the kernel says the device or FDB entry exists (EEXIST)
 *  DVS_NETLINK_NOT_FOUND the FDB entry to delete does not exist (ENOENT)
 *  DVS_NETLINK_UNSUPPORTED this kernel cannot do it (EOPNOTSUPP, EPROTONOSUPPORT,
 *                      EAFNOSUPPORT: a device kind not built, a flag it does not know)
 *  DVS_NETLINK_REFUSED the kernel refused the request's content (EINVAL, ERANGE, EBUSY,
 *                      …); the message carries the kernel's own reason when it gave one
 *  DVS_NETLINK_UNCONFIRMED the request was sent but its answer was lost (the socket's
 *                      receive queue overflowed): it may or may not have been applied
 *  DVS_IO              any other system error; `errno` carries the symbol (e.g. 'EIO')
 */
export type NetdevErrorCode =
  | 'DVS_NO_TUN_DEVICE'
  | 'DVS_PERMISSION'
  | 'DVS_NAME_IN_USE'
  | 'DVS_NAME_TOO_LONG'
  | 'DVS_DEVICE_BUSY'
  | 'DVS_ADDRESS_INVALID'
  | 'DVS_NAME_INVALID'
  | 'DVS_ADDRESS_IN_USE'
  | 'DVS_ADDRESS_UNAVAILABLE'
  | 'DVS_DEVICE_GONE'
  | 'DVS_NO_DEVICE'
  | 'DVS_DEVICE_UNSUITABLE'
  | 'DVS_CLOSED'
  | 'DVS_NATIVE_UNAVAILABLE'
  | 'DVS_NETLINK_INVALID'
  | 'DVS_NETLINK_EXISTS'
  | 'DVS_NETLINK_NOT_FOUND'
  | 'DVS_NETLINK_UNSUPPORTED'
  | 'DVS_NETLINK_REFUSED'
  | 'DVS_NETLINK_UNCONFIRMED'
  | 'DVS_IO';

export class NetdevError extends Error {
  override readonly name = 'NetdevError';
  constructor(
    readonly code: NetdevErrorCode,
    message: string,
    /** The system error symbol when one caused this ('EPERM', 'EBUSY', …). */
    readonly errno?: string,
  ) {
    super(message);
  }
}

/** Type guard for callers that match on codes. */
export function isNetdevError(err: unknown, code?: NetdevErrorCode): err is NetdevError {
  return err instanceof NetdevError && (code === undefined || err.code === code);
}
