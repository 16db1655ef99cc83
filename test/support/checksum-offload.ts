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

/**
 * Turns one netdev feature off by its ethtool name (ETHTOOL_SFEATURES, the
 * index found through ETHTOOL_GSTRINGS). Used for `tx-udp-segmentation` on an
 * underlay veth: a veth carries UDP GSO super-datagrams whole, so a capture
 * behind it would show them unsegmented; without the feature the kernel cuts
 * them in software before the veth, as before a NIC without USO, and the
 * capture shows the datagrams a real wire would carry.
 */
const FEATURE_SCRIPT = `
import array, fcntl, socket, struct, sys
SIOCETHTOOL, GSSET_INFO, GSTRINGS, SFEATURES, SS_FEATURES = 0x8946, 0x37, 0x1b, 0x3b, 4
name, feature = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def ioctl(buf):
    fcntl.ioctl(s, SIOCETHTOOL, struct.pack('16sP', name.encode(), buf.buffer_info()[0]))
info = array.array('B', struct.pack('IIQI', GSSET_INFO, 0, 1 << SS_FEATURES, 0))
ioctl(info)
count = struct.unpack_from('I', info, 16)[0]
strings = array.array('B', struct.pack('III', GSTRINGS, SS_FEATURES, count) + bytes(32 * count))
ioctl(strings)
names = [bytes(strings[12 + 32 * i:44 + 32 * i]).split(b'\\0')[0].decode() for i in range(count)]
index = names.index(feature)
blocks = (count + 31) // 32
req = bytearray(struct.pack('II', SFEATURES, blocks) + bytes(8 * blocks))
struct.pack_into('II', req, 8 + 8 * (index // 32), 1 << (index % 32), 0)
ioctl(array.array('B', bytes(req)))
`;

export async function disableNetdevFeature(lab: NetnsLab, ns: string, ifname: string, feature: string): Promise<void> {
  await lab.exec(ns, ['python3', '-c', FEATURE_SCRIPT, ifname, feature]);
}
