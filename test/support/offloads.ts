/**
 * The agents' `offloads` in the e2e tests. The files that carry frames
 * through the userspace data path run their traffic with offloads on and off
 * (offloadModes(); test names say which, "(offloads off)"), and each mode
 * asserts its own truth (assertOffloadsState() checks the agent against the
 * kernel).
 *
 * DVS_E2E_OFFLOADS=on|off narrows those files to one mode (a quicker run
 * while working on one side). Files that run one mode use the agent's
 * default (on); docs/agent.md lists which files run which.
 */
import assert from 'node:assert/strict';
import type { AgentPortView, TunnelSocketView } from '@dvs/wire';
import { run } from './run-command.js';

export type OffloadsMode = 'on' | 'off';

/** DVS_E2E_OFFLOADS (on|off), or undefined when unset. */
function offloadsFromEnv(): OffloadsMode | undefined {
  const v = process.env.DVS_E2E_OFFLOADS;
  if (v === undefined || v === '') return undefined;
  if (v !== 'on' && v !== 'off') throw new RangeError(`DVS_E2E_OFFLOADS must be on or off, got "${v}"`);
  return v;
}

/** The modes a two-mode file runs, in order: both, or the one DVS_E2E_OFFLOADS names. */
export function offloadModes(): OffloadsMode[] {
  const one = offloadsFromEnv();
  return one === undefined ? ['on', 'off'] : [one];
}

/** IFF_VNET_HDR in /sys/class/net/<tap>/tun_flags. */
const IFF_VNET_HDR = 0x4000;

/** The kernel's word on a TAP in namespace `ns`: does it carry virtio-net headers (IFF_VNET_HDR)? */
export async function tapHasVnetHeader(ns: string, tap: string): Promise<boolean> {
  const flags = await run(['ip', 'netns', 'exec', ns, 'cat', `/sys/class/net/${tap}/tun_flags`]);
  return (Number.parseInt(flags.stdout.trim(), 16) & IFF_VNET_HDR) !== 0;
}

/**
 * Asserts what the agent says of a TAP port and of its tunnel sockets in
 * `mode`, and what the kernel says of the TAP (seen in `ns`, where it lives):
 *  - on: IFF_VNET_HDR, the port's offloads with TSO, the encap sockets read
 *    with UDP_GRO;
 *  - off: no IFF_VNET_HDR, no offloads on the port, every socket reads one
 *    datagram at a time and has read no super-datagram.
 */
export async function assertOffloadsState(
  mode: OffloadsMode,
  tap: { ns: string; port: AgentPortView },
  sockets: readonly TunnelSocketView[],
): Promise<void> {
  const name = tap.port.name;
  const vnetHeader = await tapHasVnetHeader(tap.ns, name);
  const encapSockets = sockets.filter((s) => s.encap !== 'probe');
  assert.ok(encapSockets.length > 0, 'the agent reports its tunnel sockets');
  if (mode === 'on') {
    assert.equal(vnetHeader, true, `${name}: the kernel has IFF_VNET_HDR on the TAP`);
    assert.ok(tap.port.offloads?.enabled.includes('tso4'), `${name}: the port reports its offloads, TSO among them`);
    for (const s of encapSockets) assert.equal(s.receive, 'gro', `${s.encap} socket reads with UDP_GRO`);
  } else {
    assert.equal(vnetHeader, false, `${name}: the TAP was opened without IFF_VNET_HDR`);
    assert.equal(tap.port.offloads, undefined, `${name}: the port reports no offloads`);
    for (const s of sockets) {
      assert.equal(s.receive, 'plain', `${s.encap} socket reads without UDP_GRO`);
      assert.equal(s.groMessages, 0, `${s.encap} socket read no super-datagram`);
    }
  }
}
