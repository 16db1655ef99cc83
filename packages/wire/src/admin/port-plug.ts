import type { PortKind } from '../records/port.js';

/**
 * How a port gets its device: the one spelling shared by the agent's config
 * (`ports[].plug`), its `--port NAME=MAPPING/PLUG` flag, the admin socket
 * (`ports/add <name> <mapping> [plug]`), `dvs agent ports add` and the
 * QEMU/libvirt hooks (deploy/qemu/dvs-ifup).
 *  - `create`: the agent creates a TAP and holds it (the workload sits on
 *    the TAP's device side: a namespace, a container). A name that exists
 *    is refused.
 *  - `adopt`: the agent opens an existing TAP that nobody holds (a
 *    persistent one, `ip tuntap add`). A TAP that QEMU holds cannot be
 *    opened a second time: attach it.
 *  - `attach`: the agent attaches to an existing Ethernet device that
 *    belongs to someone else — a TAP that QEMU or libvirt holds, a veth end,
 *    a macvlan, a NIC — through an AF_PACKET socket, as a bridge port does.
 */
export const PORT_PLUGS = ['create', 'adopt', 'attach'] as const;
export type PortPlug = (typeof PORT_PLUGS)[number];

/** The default when none is given: `create`. */
export const DEFAULT_PORT_PLUG: PortPlug = 'create';

export function isPortPlug(text: unknown): text is PortPlug {
  return typeof text === 'string' && (PORT_PLUGS as readonly string[]).includes(text);
}

/** The port kind a plug makes (shown by the port views and in `ports/<host>/…`). */
export function portKindOf(plug: PortPlug): PortKind {
  return plug === 'create' ? 'tap-created' : plug === 'adopt' ? 'tap-adopted' : 'attach';
}
