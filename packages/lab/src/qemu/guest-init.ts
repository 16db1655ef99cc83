/**
 * The guest's /init (a busybox sh script) and the kernel command line that
 * configures one guest. One image serves every VM: what differs between VMs
 * (hostname, address, MTU, gateway) comes from `dvs.*` parameters on the
 * kernel command line; the MAC comes from QEMU (`-device virtio-net-pci,mac=`).
 *
 * Two consoles. ttyS0 (the 8250 UART) carries the kernel's messages into a
 * log file. The command console is a virtio serial port named
 * GUEST_COMMAND_PORT, not a tty: QEMU throttles a serial port when the host
 * reads slowly, where it drops output of a virtio *console* (hvc) on EAGAIN,
 * and a port's open/close state survives a live migration explicitly (the
 * guest reads EOF while no host client is connected, and blocks its writes
 * until one is). /init runs a non-interactive `sh` that reads one command per
 * line from it (no echo, no prompt, no line editing), so a driver can send a
 * line and parse the output (guest-console.ts).
 */
import { MAX_OVERLAY_MTU, MIN_OVERLAY_MTU, parseIpv4Address } from '@dvs/wire';
import { LabError } from '../errors.js';

/** Printed once on both consoles when /init has configured the network and starts the command shell. */
export const GUEST_READY_LINE = 'dvs-guest: ready';

/** Where /init finds the list of modules to insmod, in order (one path under /lib/modules per line). */
export const GUEST_MODULE_LIST = 'etc/dvs-modules';

/** The kernel modules the guest loads (their dependencies are added from modules.dep). */
export const GUEST_MODULES = ['virtio_pci', 'virtio_net', 'virtio_console'] as const;

/** Name of the command console's virtio serial port (QEMU `virtserialport,name=`). */
export const GUEST_COMMAND_PORT = 'dvs.console';

export const GUEST_INIT = `#!/bin/busybox sh
# dvs guest /init: busybox, virtio-net, configuration from the kernel command line.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
while read -r m; do
  insmod "/lib/modules/$m" || echo "dvs-guest: insmod $m failed"
done </${GUEST_MODULE_LIST}
NAME=guest; IP=; GW=; MTU=; PORT=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    dvs.name=*) NAME="\${arg#dvs.name=}" ;;
    dvs.ip=*) IP="\${arg#dvs.ip=}" ;;
    dvs.gw=*) GW="\${arg#dvs.gw=}" ;;
    dvs.mtu=*) MTU="\${arg#dvs.mtu=}" ;;
  esac
done
hostname "$NAME"
ip link set lo up
# The NIC and the command port may take a moment to appear after insmod.
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = ${GUEST_COMMAND_PORT} ] && PORT=/dev/\${p##*/}
  done
  [ -e /sys/class/net/eth0 ] && [ -n "$PORT" ] && break
  sleep 0.2
done
[ -n "$MTU" ] && ip link set eth0 mtu "$MTU"
[ -n "$IP" ] && ip addr add "$IP" dev eth0
ip link set eth0 up
[ -n "$GW" ] && ip route add default via "$GW"
READY="${GUEST_READY_LINE} name=$NAME ip=$IP mtu=$(cat /sys/class/net/eth0/mtu 2>/dev/null)"
echo "$READY"
# A virtio port opens once at a time: hold it on fd 3 for good. Writes block
# until a host client connects; a read returns EOF while none is connected.
exec 3<>$PORT
echo "$READY" >&3
# PID 1 never exits (that would panic the guest): restart the command shell
# when its input ends (the host client went away), after a pause so that an
# unconnected port does not spin. A read loop, not cat: busybox cat moves
# input with sendfile(), which on this kernel hands a line over only when the
# next one arrives.
while true; do
  while IFS= read -r line; do printf '%s\n' "$line"; done <&3 | sh >&3 2>&1
  sleep 0.5
done
`;

export interface GuestConfig {
  /** Hostname, also the name in the ready line: letters, digits and '-', up to 63. */
  name: string;
  /** IPv4 address with prefix length on eth0 ("192.0.2.11/24"); none when omitted. */
  ip?: string;
  /** Default gateway (IPv4); none when omitted. */
  gateway?: string;
  /** MTU of eth0; QEMU's host_mtu is set to the same value. */
  mtu?: number;
}

function badOption(field: string, value: unknown, fix: string): LabError {
  return new LabError('DVS_LAB_BAD_SPEC', `guest ${field} ${JSON.stringify(value)} is invalid: ${fix}`);
}

/** Checks a guest config; throws LabError DVS_LAB_BAD_SPEC naming the field. */
export function validateGuestConfig(config: GuestConfig): void {
  if (typeof config.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(config.name))
    throw badOption('name', config.name, 'use letters, digits and "-", 1 to 63 characters');
  if (config.ip !== undefined) {
    const m = /^([0-9.]+)\/(\d{1,2})$/.exec(config.ip);
    if (m === null || parseIpv4Address(m[1]) === null || Number(m[2]) > 32)
      throw badOption('ip', config.ip, 'give an IPv4 address with its prefix length, e.g. 192.0.2.11/24');
  }
  if (config.gateway !== undefined && parseIpv4Address(config.gateway) === null)
    throw badOption('gateway', config.gateway, 'give an IPv4 address, e.g. 192.0.2.1');
  if (
    config.mtu !== undefined &&
    (!Number.isInteger(config.mtu) || config.mtu < MIN_OVERLAY_MTU || config.mtu > MAX_OVERLAY_MTU)
  )
    throw badOption('mtu', config.mtu, `use an integer from ${MIN_OVERLAY_MTU} to ${MAX_OVERLAY_MTU}`);
}

/**
 * The kernel command line for one guest: serial console, quiet boot, no reboot
 * on panic (QEMU runs with -no-reboot, so a panic ends QEMU), then dvs.* parameters.
 */
export function guestKernelCommandLine(config: GuestConfig): string {
  validateGuestConfig(config);
  const params = ['console=ttyS0', 'quiet', 'panic=-1', `dvs.name=${config.name}`];
  if (config.ip !== undefined) params.push(`dvs.ip=${config.ip}`);
  if (config.gateway !== undefined) params.push(`dvs.gw=${config.gateway}`);
  if (config.mtu !== undefined) params.push(`dvs.mtu=${config.mtu}`);
  return params.join(' ');
}
