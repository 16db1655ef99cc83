// PacketRing: the receive ring (TPACKET_V2 or TPACKET_V3) of an attached
// device's packet socket, mapped into our memory. The socket (and its fd)
// belongs to an FdHandle; this object owns only the mapping.
//  - V3: variable-size frames packed in blocks; the kernel hands a block over
//    when it is full or its timer fires (so at low rates, up to a jiffy late).
//  - V2: fixed-size frames, each handed over (and the reader woken) as it lands.
//
// JS: new PacketRing(fd, version 2|3, blockSize, blockCount, frameSize)   maps the ring set up by attachOpen
//   .recv(buffer, slotSize, capacity, offsets, lengths, headroom, family, out: Float64Array[3])
//       -> frames copied out of the ring (out[0] += too big, out[2] += tags put back)
//   .close()   unmaps; idempotent (also done when collected)
#pragma once

#include <napi.h>

#include "common.h"

#include <cstddef>
#include <cstdint>

namespace dvs {

class PacketRing : public Napi::ObjectWrap<PacketRing> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PacketRing(const Napi::CallbackInfo& info);
  ~PacketRing() override;

 private:
  Napi::Value Recv(const Napi::CallbackInfo& info);
  uint32_t RecvV3(const BatchView& batch, uint32_t headroom, uint8_t* family, double* out);
  uint32_t RecvV2(const BatchView& batch, uint32_t headroom, uint8_t* family, double* out);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Unmap();

  uint8_t* map_ = nullptr;
  size_t mapLength_ = 0;
  int version_ = 3;
  uint32_t blockSize_ = 0;
  uint32_t blockCount_ = 0;
  uint32_t frameSize_ = 0;
  uint32_t framesPerBlock_ = 0;
  uint32_t frameCount_ = 0;
  // V2: the next frame to read.
  uint32_t frame_ = 0;
  // V3: where reading stopped: the block we are in, and inside it the next packet
  // and how many are left (0: the block has not been started).
  uint32_t block_ = 0;
  uint8_t* packet_ = nullptr;
  uint32_t packetsLeft_ = 0;
};

}  // namespace dvs
