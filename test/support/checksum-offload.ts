import type { NetnsLab } from './netns-lab.js';

/**
 * Turns TX checksum offload off on a veth (ETHTOOL_STXCSUM through the
 * SIOCETHTOOL ioctl; python3 because Node has no ioctl and this image has no
 * ethtool). Why: a veth "offloads" checksums to hardware that does not exist,
 * so a kernel VXLAN device behind it tunnels TCP segments whose inner checksum
 * is only partial; a real NIC would complete it. A receiver that is not the
 * kernel (our agent reads the UDP payload) forwards the partial checksum and
 * the far VM drops the segment. Turning offload off on the sending VM's veth
 * makes its stack compute full checksums, as on real hardware.
 */
const SCRIPT = `
import array, fcntl, socket, struct, sys
SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17
value = array.array('B', struct.pack('II', ETHTOOL_STXCSUM, 0))
ifreq = struct.pack('16sP', sys.argv[1].encode(), value.buffer_info()[0])
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL, ifreq)
`;

export async function disableTxChecksumOffload(lab: NetnsLab, ns: string, ifname: string): Promise<void> {
  await lab.exec(ns, ['python3', '-c', SCRIPT, ifname]);
}
