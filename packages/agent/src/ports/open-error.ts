import type { PortPlug } from '@dvs/wire';
import { AgentError } from '../agent-error.js';

/**
 * A device that would not open, as an AgentError that names the device and the
 * fix. netdev's own messages already do for attach (DVS_NO_DEVICE: "no device
 * X in this network namespace", DVS_DEVICE_UNSUITABLE: loopback, not
 * Ethernet); a TAP that someone else holds or a device that is not a TAP is
 * pointed to attach.
 */
export function openError(err: unknown, name: string, plug: PortPlug): AgentError {
  if (err instanceof AgentError) return err;
  const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'DVS_IO';
  const message = (err as Error).message ?? String(err);
  const what = plug === 'attach' ? 'attach to' : 'open TAP';
  let fix = '';
  if (code === 'DVS_DEVICE_BUSY')
    fix = `; a TAP that QEMU or libvirt holds is attached, not adopted: ports/add ${name} <mapping> attach`;
  else if (code === 'DVS_NAME_IN_USE')
    fix = `; ${name} is not a TAP: attach it instead (ports/add ${name} <mapping> attach)`;
  return new AgentError(code, `cannot ${what} ${name}: ${message}${fix}`, { cause: err });
}
