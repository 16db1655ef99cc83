import { NetdevError } from './errors.js';
import type { NetdevErrorCode } from './errors.js';
import { isNativeSystemError } from './native-binding.js';

/**
 * Maps a failed system call from the addon to a NetdevError with a stable
 * code. `what` names the thing being opened, for the message.
 */
export function toNetdevError(err: unknown, what: string): NetdevError {
  if (err instanceof NetdevError) return err;
  if (!isNativeSystemError(err)) return new NetdevError('DVS_IO', `${what}: ${String(err)}`);
  const code = codeFor(err.syscall, err.errno);
  return new NetdevError(code, `${what}: ${hint(code)} (${err.message})`, err.errno);
}

export function codeFor(syscall: string, errno: string): NetdevErrorCode {
  if (errno === 'ENAMETOOLONG') return 'DVS_NAME_TOO_LONG';
  if (errno === 'EPERM' || errno === 'EACCES') return 'DVS_PERMISSION';
  if (syscall.startsWith('RTM_')) return netlinkCodeFor(errno);
  if (syscall === 'open /dev/net/tun' && (errno === 'ENOENT' || errno === 'ENODEV' || errno === 'ENXIO')) {
    return 'DVS_NO_TUN_DEVICE';
  }
  if (syscall === 'TUNSETIFF' && errno === 'EBUSY') return 'DVS_DEVICE_BUSY';
  // TUNSETIFF says EINVAL when the name belongs to a device that is not a TAP
  // (a veth, a bridge, a TUN); the name itself was validated before.
  if (syscall === 'TUNSETIFF' && errno === 'EINVAL') return 'DVS_NAME_IN_USE';
  if (errno === 'EBADFD') return 'DVS_DEVICE_GONE';
  // bind(AF_PACKET) to an ifindex that has just gone away.
  if (syscall === 'bind(AF_PACKET)' && (errno === 'ENODEV' || errno === 'ENXIO')) return 'DVS_NO_DEVICE';
  if (errno === 'EADDRINUSE') return 'DVS_ADDRESS_IN_USE';
  if (errno === 'EADDRNOTAVAIL') return 'DVS_ADDRESS_UNAVAILABLE';
  return 'DVS_IO';
}

/** A request the kernel answered over rtnetlink (RTM_NEWLINK, RTM_NEWNEIGH, …). */
function netlinkCodeFor(errno: string): NetdevErrorCode {
  switch (errno) {
    case 'ENODEV':
      return 'DVS_NO_DEVICE';
    case 'EEXIST':
      return 'DVS_NETLINK_EXISTS';
    case 'ENOENT':
      return 'DVS_NETLINK_NOT_FOUND';
    case 'EOPNOTSUPP':
    case 'EPROTONOSUPPORT':
    case 'EAFNOSUPPORT':
      return 'DVS_NETLINK_UNSUPPORTED';
    case 'ENOBUFS':
      return 'DVS_NETLINK_UNCONFIRMED';
    case 'EADDRINUSE':
      return 'DVS_ADDRESS_IN_USE';
    case 'EINVAL':
    case 'ERANGE':
    case 'EBUSY':
    case 'ENOTEMPTY':
    case 'EMSGSIZE':
    case 'ENOSPC':
      return 'DVS_NETLINK_REFUSED';
    default:
      return 'DVS_IO';
  }
}

export function hint(code: NetdevErrorCode): string {
  switch (code) {
    case 'DVS_NO_TUN_DEVICE':
      return '/dev/net/tun is missing (modprobe tun, or give the container the device)';
    case 'DVS_PERMISSION':
      return 'permission denied (run as root or with CAP_NET_ADMIN)';
    case 'DVS_NAME_IN_USE':
      return 'the name belongs to a device that is not a TAP';
    case 'DVS_DEVICE_BUSY':
      return 'the TAP is already attached to another process';
    case 'DVS_NAME_TOO_LONG':
      return 'interface names are at most 15 bytes';
    case 'DVS_DEVICE_GONE':
      return 'the device was deleted';
    case 'DVS_NO_DEVICE':
      return 'no such device in this network namespace';
    case 'DVS_ADDRESS_IN_USE':
      return 'the address and port are already bound';
    case 'DVS_ADDRESS_UNAVAILABLE':
      return 'the address is not configured on this host';
    case 'DVS_NETLINK_EXISTS':
      return 'it exists already';
    case 'DVS_NETLINK_NOT_FOUND':
      return 'no such entry';
    case 'DVS_NETLINK_UNSUPPORTED':
      return 'this kernel does not support it';
    case 'DVS_NETLINK_REFUSED':
      return 'the kernel refused it';
    case 'DVS_NETLINK_UNCONFIRMED':
      return 'the answer was lost (receive queue full): it may or may not have been applied';
    default:
      return 'system error';
  }
}
