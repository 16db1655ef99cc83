/**
 * The underlay: one bridge in the lab's `ul` namespace and one veth per host
 * namespace, all in 198.51.100.0/24. The bridge holds 198.51.100.1, where etcd
 * and the controller listen, so every host reaches them over the underlay as
 * it would in a data centre.
 */
import { ipBatch } from './command-runner.js';
import { devices, UNDERLAY_CONTROL_ADDRESS, UNDERLAY_PREFIX_LENGTH, underlayNamespace } from './lab-layout.js';
import type { LabRecorder } from './lab-recorder.js';

export async function createUnderlay(recorder: LabRecorder): Promise<void> {
  const id = recorder.state.id;
  const ns = underlayNamespace(id);
  const br = devices.underlayBridge(id);
  await recorder.createNamespace(ns);
  await ipBatch(ns, [
    `link add ${br} type bridge stp_state 0 forward_delay 0`,
    `link set ${br} up`,
    `addr add ${UNDERLAY_CONTROL_ADDRESS}/${UNDERLAY_PREFIX_LENGTH} dev ${br}`,
  ]);
}

/** Connects a host namespace to the underlay bridge and gives it its address. */
export async function connectHostToUnderlay(
  labId: string,
  host: string,
  hostNetns: string,
  address: string,
): Promise<void> {
  const ns = underlayNamespace(labId);
  const port = devices.underlayPort(labId, host);
  const uplink = devices.hostUplink(labId, host);
  await ipBatch(ns, [
    `link add ${port} type veth peer name ${uplink} netns ${hostNetns}`,
    `link set ${port} master ${devices.underlayBridge(labId)}`,
    `link set ${port} up`,
  ]);
  await ipBatch(hostNetns, [`addr add ${address}/${UNDERLAY_PREFIX_LENGTH} dev ${uplink}`, `link set ${uplink} up`]);
}

/** Takes a host off the underlay (link down on the bridge side) or puts it back. */
export async function setHostUnderlayLink(labId: string, host: string, up: boolean): Promise<void> {
  await ipBatch(underlayNamespace(labId), [`link set ${devices.underlayPort(labId, host)} ${up ? 'up' : 'down'}`]);
}
