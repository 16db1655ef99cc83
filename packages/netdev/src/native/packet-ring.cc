#include "packet-ring.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "attach.h"
#include "common.h"
#include "loop-spin.h"

namespace dvs {

Napi::Function PacketRing::Define(Napi::Env env) {
  return DefineClass(env, "PacketRing",
                     {
                         InstanceMethod<&PacketRing::Recv>("recv"),
                         InstanceMethod<&PacketRing::Close>("close"),
                     });
}

PacketRing::PacketRing(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketRing>(info) {
  Napi::Env env = info.Env();
  int32_t fd, version, blockSize, blockCount, frameSize;
  if (!ReadInt(info, 0, &fd) || !ReadInt(info, 1, &version) || !ReadInt(info, 2, &blockSize) ||
      !ReadInt(info, 3, &blockCount) || !ReadInt(info, 4, &frameSize)) {
    return;
  }
  if ((version != 2 && version != 3) || blockSize <= 0 || blockCount <= 0 || frameSize <= 0 ||
      blockSize % frameSize != 0) {
    ThrowRange(env, "PacketRing(fd, version 2|3, blockSize, blockCount, frameSize)");
    return;
  }
  size_t length = static_cast<size_t>(blockSize) * static_cast<size_t>(blockCount);
  void* map = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    ThrowErrno(env, "mmap(PACKET_RX_RING)", errno);
    return;
  }
  map_ = static_cast<uint8_t*>(map);
  mapLength_ = length;
  version_ = version;
  blockSize_ = static_cast<uint32_t>(blockSize);
  blockCount_ = static_cast<uint32_t>(blockCount);
  frameSize_ = static_cast<uint32_t>(frameSize);
  framesPerBlock_ = blockSize_ / frameSize_;
  frameCount_ = framesPerBlock_ * blockCount_;
}

PacketRing::~PacketRing() { Unmap(); }

void PacketRing::Unmap() {
  if (map_ != nullptr) munmap(map_, mapLength_);
  map_ = nullptr;
  packet_ = nullptr;
  packetsLeft_ = 0;
}

Napi::Value PacketRing::Close(const Napi::CallbackInfo& info) {
  Unmap();
  return info.Env().Undefined();
}


namespace {

// Copies one received frame into slot n, putting back an 802.1Q tag the
// kernel moved into metadata (the same layout as the recvmmsg path's
// RestoreVlanTag: the MACs go 4 bytes into the headroom when there is some).
// Returns false when it does not fit (the caller counts it as too big).
bool CopyFrame(const BatchView& batch, uint32_t n, uint32_t headroom, const uint8_t* src, uint32_t length,
               bool tagged, uint16_t tpid, uint16_t tci, uint8_t* family, double* out) {
  const uint32_t room = batch.slotSize - headroom;
  if (length > room || (tagged && headroom < 4 && length + 4 > room)) return false;
  uint8_t* slot = batch.data + static_cast<size_t>(n) * batch.slotSize;
  uint32_t start = headroom;
  if (tagged && length >= 12) {
    if (headroom >= 4) start = headroom - 4;
    uint8_t* dst = slot + start;
    memcpy(dst, src, 12);
    dst[12] = tpid >> 8;
    dst[13] = tpid & 0xff;
    dst[14] = tci >> 8;
    dst[15] = tci & 0xff;
    memcpy(dst + 16, src + 12, length - 12);
    length += 4;
    out[2] += 1;
  } else {
    memcpy(slot + start, src, length);
  }
  batch.offsets[n] = start;
  batch.lengths[n] = length;
  family[n] = 0;
  return true;
}

}  // namespace

uint32_t PacketRing::RecvV3(const BatchView& batch, uint32_t headroom, uint8_t* family, double* out) {
  uint32_t n = 0;
  // At most one lap of the ring per call, so one call never starves the loop.
  for (uint32_t blocks = 0; n < batch.capacity && blocks <= blockCount_; blocks++) {
    auto* desc = reinterpret_cast<struct tpacket_block_desc*>(map_ + static_cast<size_t>(block_) * blockSize_);
    uint32_t status = __atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
    if ((status & TP_STATUS_USER) == 0) break;
    if (packet_ == nullptr) {
      packet_ = reinterpret_cast<uint8_t*>(desc) + desc->hdr.bh1.offset_to_first_pkt;
      packetsLeft_ = desc->hdr.bh1.num_pkts;
    }
    while (packetsLeft_ > 0 && n < batch.capacity) {
      auto* hdr = reinterpret_cast<struct tpacket3_hdr*>(packet_);
      const uint8_t* src = packet_ + hdr->tp_mac;
      packet_ += hdr->tp_next_offset;
      packetsLeft_--;
      bool tagged = (hdr->tp_status & TP_STATUS_VLAN_VALID) != 0;
      uint16_t tpid = (hdr->tp_status & TP_STATUS_VLAN_TPID_VALID) ? hdr->hv1.tp_vlan_tpid : ETH_P_8021Q;
      if (hdr->tp_snaplen < hdr->tp_len ||
          !CopyFrame(batch, n, headroom, src, hdr->tp_len, tagged, tpid, static_cast<uint16_t>(hdr->hv1.tp_vlan_tci),
                     family, out)) {
        out[0] += 1;
        continue;
      }
      n++;
    }
    if (packetsLeft_ > 0) break;  // the batch is full; the rest of this block waits for the next call
    // Hand the block back to the kernel and move on.
    __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    packet_ = nullptr;
    block_ = (block_ + 1) % blockCount_;
  }
  return n;
}

uint32_t PacketRing::RecvV2(const BatchView& batch, uint32_t headroom, uint8_t* family, double* out) {
  uint32_t n = 0;
  // At most one lap of the ring per call.
  for (uint32_t seen = 0; n < batch.capacity && seen < frameCount_; seen++) {
    uint8_t* frame = map_ + static_cast<size_t>(frame_ / framesPerBlock_) * blockSize_ +
                     static_cast<size_t>(frame_ % framesPerBlock_) * frameSize_;
    auto* hdr = reinterpret_cast<struct tpacket2_hdr*>(frame);
    uint32_t status = __atomic_load_n(&hdr->tp_status, __ATOMIC_ACQUIRE);
    if ((status & TP_STATUS_USER) == 0) break;
    bool tagged = (status & TP_STATUS_VLAN_VALID) != 0;
    uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? hdr->tp_vlan_tpid : ETH_P_8021Q;
    if (hdr->tp_snaplen < hdr->tp_len ||
        !CopyFrame(batch, n, headroom, frame + hdr->tp_mac, hdr->tp_len, tagged, tpid, hdr->tp_vlan_tci, family,
                   out)) {
      out[0] += 1;
    } else {
      n++;
    }
    __atomic_store_n(&hdr->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    frame_ = (frame_ + 1) % frameCount_;
  }
  return n;
}

Napi::Value PacketRing::Recv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BatchView batch;
  uint32_t headroom;
  if (!ReadBatchWithHeadroom(info, 0, &batch, &headroom)) return Napi::Value();
  uint8_t* family = ReadBytes(info, 6, batch.capacity);
  double* out = ReadCounter(info, 7, 3);
  if (family == nullptr || out == nullptr) return Napi::Value();
  if (map_ == nullptr) return ThrowErrno(env, "PacketRing.recv", EBADF);
  uint32_t n = version_ == 2 ? RecvV2(batch, headroom, family, out) : RecvV3(batch, headroom, family, out);
  NoteFramesReceived(n);
  return Napi::Number::New(env, n);
}

}  // namespace dvs
