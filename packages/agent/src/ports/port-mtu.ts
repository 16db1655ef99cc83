/**
 * A port's MTU against its networks' overlay MTU: the one rule for the MTU a
 * created TAP gets and for the warning an adopted or attached device with a
 * larger MTU earns (its larger frames are dropped by the data path as `mtu`).
 */
import type { NetworkView } from '../datapath/views.js';
import type { Logger } from '../observe/logger.js';
import type { ManagedPort } from './managed-port.js';

/** The smallest overlay MTU among `vnis` that have a network (undefined: none known yet). */
export function overlayMtuOf(networks: readonly NetworkView[], vnis: readonly number[]): number | undefined {
  const mtus = networks.filter((n) => vnis.includes(n.vni)).map((n) => n.mtu);
  return mtus.length === 0 ? undefined : Math.min(...mtus);
}

/**
 * Records the device's MTU and the overlay MTU on the port, and the warning
 * while the first is larger; logs once per change (a warning when it starts
 * or changes, one info line when it clears).
 */
export function checkPortMtu(port: ManagedPort, deviceMtu: number, overlay: number | undefined, logger: Logger): void {
  port.lastMtu = deviceMtu;
  port.overlayMtu = overlay ?? null;
  const warning =
    overlay !== undefined && deviceMtu > overlay
      ? `device MTU ${deviceMtu} is larger than the overlay MTU ${overlay}: frames above it are dropped (mtu)`
      : null;
  if (warning === port.mtuWarning) return;
  const had = port.mtuWarning !== null;
  port.mtuWarning = warning;
  if (warning !== null)
    logger.warn('port MTU is larger than the overlay MTU: frames above it are dropped (mtu)', {
      port: port.name,
      deviceMtu,
      overlayMtu: overlay,
    });
  else if (had) logger.info('port MTU fits the overlay MTU again', { port: port.name, deviceMtu });
}
