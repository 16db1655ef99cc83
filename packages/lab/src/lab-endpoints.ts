/**
 * Where the dvs CLI reaches a lab from the host shell (`dvs --lab <id> …`):
 * the controller through the lab's unix-socket forwarder (the controller
 * listens inside the underlay namespace, which the host shell cannot reach)
 * and each dvs host's agent admin socket. Read from the lab's state file, so
 * it works from any process while the lab is up.
 *
 * Contract with @dvs/cli (which loads @dvs/lab on demand): `labEndpoints(id)`.
 */
import { assertLabId } from './lab-layout.js';
import { loadLabState } from './lab-state.js';

export interface LabEndpoints {
  id: string;
  phase: 'building' | 'up' | 'failed' | 'tearing-down';
  /**
   * The controller's API URL (Host header, TLS name), the socket that reaches
   * it, the CA of its certificate and the lab admin's token file; null
   * without a control plane.
   */
  controller: { url: string; socketPath: string; cacert?: string; tokenFile?: string } | null;
  /** Admin sockets of the dvs hosts' agents, in host order. */
  agents: { host: string; adminSocket: string }[];
}

/**
 * The endpoints of a recorded lab, or null when no lab `id` is recorded on
 * this machine. A malformed id throws LabError DVS_LAB_BAD_SPEC naming `option`.
 */
export async function labEndpoints(id: string, option = '--lab'): Promise<LabEndpoints | null> {
  assertLabId(id, option);
  const state = await loadLabState(id);
  if (state === null) return null;
  const c = state.controller;
  return {
    id: state.id,
    phase: state.phase,
    controller: c?.socketPath
      ? {
          url: c.url,
          socketPath: c.socketPath,
          ...(c.api ? { cacert: c.api.ca, tokenFile: c.api.adminTokenFile } : {}),
        }
      : null,
    agents: state.hosts.flatMap((h) =>
      h.kind === 'dvs' && h.adminSocket ? [{ host: h.name, adminSocket: h.adminSocket }] : [],
    ),
  };
}
