// PacketRing: the TPACKET_V3 receive ring of an attached device's packet
// socket, mapped into our memory. The socket (and its fd) belongs to an
// FdHandle; this object owns only the mapping.
//
// JS: new PacketRing(fd, blockSize, blockCount)   maps the ring set up by attachOpen
//   .recv(buffer, slotSize, capacity, offsets, lengths, headroom, family, out: Float64Array[3])
//       -> frames copied out of the ring (out[0] += too big, out[2] += tags put back)
//   .close()   unmaps; idempotent (also done when collected)
#pragma once

#include <napi.h>

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
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Unmap();

  uint8_t* map_ = nullptr;
  size_t mapLength_ = 0;
  uint32_t blockSize_ = 0;
  uint32_t blockCount_ = 0;
  // Where reading stopped: the block we are in, and inside it the next packet
  // and how many are left (0: the block has not been started).
  uint32_t block_ = 0;
  uint8_t* packet_ = nullptr;
  uint32_t packetsLeft_ = 0;
};

}  // namespace dvs
