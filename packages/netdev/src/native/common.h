// Shared helpers for the dvs_netdev addon: errno -> JS errors, argument checks,
// and the batch views every I/O function takes.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace dvs {

// Throws an Error whose `errno` is the symbol ("EBUSY"), `syscall` the failing
// call, and `errnoNumber` the number; the TypeScript layer maps these to
// NetdevError codes. Returns an empty value for `return ThrowErrno(...)`.
Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err);

// As ThrowErrno, with the kernel's own explanation (a netlink extended ack,
// '' when it gave none) in the message and as `detail`.
Napi::Value ThrowErrnoDetail(Napi::Env env, const char* syscall, int err, const std::string& detail);

// The errno symbol ("ENETDOWN"), or "EUNKNOWN".
const char* ErrnoName(int err);

// Throws a RangeError (programmer error in arguments).
Napi::Value ThrowRange(Napi::Env env, const char* message);

// The slot layout of a PacketBatch as the native side sees it. Built from JS
// arguments (buffer, slotSize, capacity, offsets, lengths) with every bound
// checked once, so the loops below never index out of range.
struct BatchView {
  uint8_t* data = nullptr;
  size_t dataLength = 0;
  uint32_t slotSize = 0;
  uint32_t capacity = 0;
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;
};

// Parses args[first..first+4] = buffer, slotSize, capacity, offsets, lengths.
// Returns false (with a JS exception pending) when they do not describe a batch.
bool ReadBatchView(const Napi::CallbackInfo& info, size_t first, BatchView* out);

// Per-slot UDP metadata: family (Uint8Array), ipv4 (Uint32Array), ipv6 (Buffer,
// 16 bytes per slot), port (Uint16Array). All at least `capacity` long.
struct AddressView {
  uint8_t* family = nullptr;
  uint32_t* ipv4 = nullptr;
  uint8_t* ipv6 = nullptr;
  uint16_t* port = nullptr;
};

bool ReadAddressView(const Napi::CallbackInfo& info, size_t first, uint32_t capacity, AddressView* out);

// A Uint32Array of slot indexes plus a count n; every index < capacity and
// every slot's offset + length <= slotSize, checked before any I/O.
// args[index] must be a Float64Array of at least `count` elements (drop
// counters the call adds to). Returns nullptr with a JS exception pending otherwise.
double* ReadCounter(const Napi::CallbackInfo& info, size_t index, size_t count = 1);

// args[index] must be a Uint16Array / Int32Array of at least `length`
// elements. Return nullptr with a JS exception pending otherwise.
uint16_t* ReadU16(const Napi::CallbackInfo& info, size_t index, size_t length);
int32_t* ReadI32(const Napi::CallbackInfo& info, size_t index, size_t length);

// args[index] must be a Uint8Array of at least `length` elements.
uint8_t* ReadBytes(const Napi::CallbackInfo& info, size_t index, size_t length);

// args[index] must be a number; *out gets its int32 value.
bool ReadInt(const Napi::CallbackInfo& info, size_t index, int32_t* out);

bool ReadSlotList(const Napi::CallbackInfo& info, size_t first, const BatchView& batch, const uint32_t** slots,
                  uint32_t* n);

// Parses args[first..first+5] = buffer, slotSize, capacity, offsets, lengths,
// headroom: a batch to read into, with headroom < slotSize. Returns false
// (with a JS exception pending) otherwise.
bool ReadBatchWithHeadroom(const Napi::CallbackInfo& info, size_t first, BatchView* batch, uint32_t* headroom);

// The all-zero virtio-net header (10 or 12 bytes used) that a headerless
// write puts in front of each plain frame: no flags, no GSO.
extern const uint8_t kZeroVnetHeader[12];

// A frame write's arguments (tapWrite, attachSend): (fd, buffer, slotSize,
// capacity, offsets, lengths, slots, n, drops: Float64Array[dropSlots],
// vnetHeaderLength = 0, headerless = false).
struct FrameWriteArgs {
  int32_t fd = -1;
  BatchView batch;
  const uint32_t* slots = nullptr;
  uint32_t n = 0;
  double* drops = nullptr;
  int32_t vnetHeaderLength = 0;
  // With vnetHeaderLength > 0: the slots hold plain frames, each written
  // behind kZeroVnetHeader.
  bool headerless = false;
  // A slot shorter than this is a runt: an Ethernet header, plus the
  // virtio-net header when the slot holds one.
  uint32_t shortest = 0;
};

// Returns false (with a JS exception pending) when the arguments do not
// describe a write, or a headerless write's header is longer than kZeroVnetHeader.
bool ReadFrameWriteArgs(const Napi::CallbackInfo& info, size_t dropSlots, FrameWriteArgs* out);

}  // namespace dvs
