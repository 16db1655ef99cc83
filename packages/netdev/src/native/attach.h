// Shared by the two receive paths of an attached device (attach.cc: recvmmsg,
// packet-ring.cc: TPACKET_V3 ring).
#pragma once

#include <cstdint>

namespace dvs {

// Puts an 802.1Q/802.1ad tag that the receive path moved into metadata back
// into the frame at slot + headroom (length bytes, room bytes available after
// headroom). With headroom >= 4 the two MAC addresses move 4 bytes back into
// the headroom (12 bytes moved, the frame then starts at headroom - 4);
// otherwise the payload moves 4 bytes on. Returns the frame's new start
// offset in the slot, or -1 when there is no room (the caller drops it).
// With a virtio-net header of vnetHeaderLength bytes in front of the frame
// (PACKET_VNET_HDR; `length` counts it), the header moves with the MACs and
// its csum_start and hdr_len, which count from the frame's first byte, grow
// by the tag's 4 bytes.
int32_t RestoreVlanTag(uint8_t* slot, uint32_t headroom, uint32_t room, uint32_t length, uint16_t tpid,
                       uint16_t tci, uint32_t vnetHeaderLength = 0);

}  // namespace dvs
