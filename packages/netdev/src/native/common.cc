#include "common.h"

#include <cerrno>
#include <string>

namespace dvs {

const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOSPC: return "ENOSPC";
    case EMSGSIZE: return "EMSGSIZE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENOBUFS: return "ENOBUFS";
    case EBADFD: return "EBADFD";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENETDOWN: return "ENETDOWN";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case ENOTTY: return "ENOTTY";
    case EINTR: return "EINTR";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ERANGE: return "ERANGE";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EBADMSG: return "EBADMSG";
    case EPROTO: return "EPROTO";
    default: return "EUNKNOWN";
  }
}

// The error both ThrowErrno and ThrowErrnoDetail throw, before the detail.
static Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::String::New(env, ErrnoName(err)));
  error.Set("errnoNumber", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  ErrnoError(env, syscall, err, std::string(syscall) + ": " + strerror(err)).ThrowAsJavaScriptException();
  return Napi::Value();
}

Napi::Value ThrowErrnoDetail(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  std::string message = std::string(syscall) + ": " + strerror(err);
  if (!detail.empty()) message += " (kernel: " + detail + ")";
  Napi::Error error = ErrnoError(env, syscall, err, message);
  error.Set("detail", Napi::String::New(env, detail));
  error.ThrowAsJavaScriptException();
  return Napi::Value();
}

Napi::Value ThrowRange(Napi::Env env, const char* message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return Napi::Value();
}

template <typename T, napi_typedarray_type Type>
static T* TypedArrayData(const Napi::Value& value, size_t minLength) {
  if (!value.IsTypedArray()) return nullptr;
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  if (array.TypedArrayType() != Type || array.ElementLength() < minLength) return nullptr;
  auto* base = static_cast<uint8_t*>(array.ArrayBuffer().Data());
  return reinterpret_cast<T*>(base + array.ByteOffset());
}

bool ReadBatchView(const Napi::CallbackInfo& info, size_t first, BatchView* out) {
  Napi::Env env = info.Env();
  if (info.Length() < first + 5 || !info[first].IsBuffer() || !info[first + 1].IsNumber() ||
      !info[first + 2].IsNumber()) {
    ThrowRange(env, "expected (buffer, slotSize, capacity, offsets, lengths)");
    return false;
  }
  Napi::Buffer<uint8_t> buffer = info[first].As<Napi::Buffer<uint8_t>>();
  out->data = buffer.Data();
  out->dataLength = buffer.Length();
  out->slotSize = info[first + 1].As<Napi::Number>().Uint32Value();
  out->capacity = info[first + 2].As<Napi::Number>().Uint32Value();
  if (out->slotSize == 0 || out->capacity == 0 || out->capacity > 1024 ||
      static_cast<size_t>(out->slotSize) * out->capacity > out->dataLength) {
    ThrowRange(env, "buffer is smaller than slotSize * capacity");
    return false;
  }
  out->offsets = TypedArrayData<uint32_t, napi_uint32_array>(info[first + 3], out->capacity);
  out->lengths = TypedArrayData<uint32_t, napi_uint32_array>(info[first + 4], out->capacity);
  if (out->offsets == nullptr || out->lengths == nullptr) {
    ThrowRange(env, "offsets/lengths must be Uint32Arrays of at least capacity elements");
    return false;
  }
  return true;
}

bool ReadAddressView(const Napi::CallbackInfo& info, size_t first, uint32_t capacity, AddressView* out) {
  if (info.Length() < first + 4) {
    ThrowRange(info.Env(), "expected (family, ipv4, ipv6, port)");
    return false;
  }
  out->family = TypedArrayData<uint8_t, napi_uint8_array>(info[first], capacity);
  out->ipv4 = TypedArrayData<uint32_t, napi_uint32_array>(info[first + 1], capacity);
  out->ipv6 = TypedArrayData<uint8_t, napi_uint8_array>(info[first + 2], static_cast<size_t>(capacity) * 16);
  out->port = TypedArrayData<uint16_t, napi_uint16_array>(info[first + 3], capacity);
  if (!out->family || !out->ipv4 || !out->ipv6 || !out->port) {
    ThrowRange(info.Env(), "address arrays are too short or of the wrong type");
    return false;
  }
  return true;
}

// args[index] as a typed array of Type with at least `length` elements, or
// nullptr with a RangeError pending that says what was `expected`.
template <typename T, napi_typedarray_type Type>
static T* ReadTypedArray(const Napi::CallbackInfo& info, size_t index, size_t length, const char* expected) {
  T* data = info.Length() > index ? TypedArrayData<T, Type>(info[index], length) : nullptr;
  if (data == nullptr) ThrowRange(info.Env(), expected);
  return data;
}

double* ReadCounter(const Napi::CallbackInfo& info, size_t index, size_t count) {
  return ReadTypedArray<double, napi_float64_array>(info, index, count, "expected a Float64Array counter");
}

uint16_t* ReadU16(const Napi::CallbackInfo& info, size_t index, size_t length) {
  return ReadTypedArray<uint16_t, napi_uint16_array>(info, index, length, "expected a Uint16Array");
}

int32_t* ReadI32(const Napi::CallbackInfo& info, size_t index, size_t length) {
  return ReadTypedArray<int32_t, napi_int32_array>(info, index, length, "expected an Int32Array");
}

uint8_t* ReadBytes(const Napi::CallbackInfo& info, size_t index, size_t length) {
  return ReadTypedArray<uint8_t, napi_uint8_array>(info, index, length, "expected a Uint8Array");
}

bool ReadInt(const Napi::CallbackInfo& info, size_t index, int32_t* out) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    ThrowRange(info.Env(), "expected a number");
    return false;
  }
  *out = info[index].As<Napi::Number>().Int32Value();
  return true;
}

bool ReadSlotList(const Napi::CallbackInfo& info, size_t first, const BatchView& batch, const uint32_t** slots,
                  uint32_t* n) {
  Napi::Env env = info.Env();
  if (info.Length() < first + 2 || !info[first + 1].IsNumber()) {
    ThrowRange(env, "expected (slots, n)");
    return false;
  }
  *n = info[first + 1].As<Napi::Number>().Uint32Value();
  *slots = TypedArrayData<uint32_t, napi_uint32_array>(info[first], *n);
  if (*slots == nullptr) {
    ThrowRange(env, "slots must be a Uint32Array of at least n elements");
    return false;
  }
  for (uint32_t i = 0; i < *n; i++) {
    uint32_t slot = (*slots)[i];
    if (slot >= batch.capacity ||
        static_cast<uint64_t>(batch.offsets[slot]) + batch.lengths[slot] > batch.slotSize) {
      ThrowRange(env, "slot index or offset + length out of range");
      return false;
    }
  }
  return true;
}

bool ReadBatchWithHeadroom(const Napi::CallbackInfo& info, size_t first, BatchView* batch, uint32_t* headroom) {
  int32_t headroomArg;
  if (!ReadBatchView(info, first, batch) || !ReadInt(info, first + 5, &headroomArg)) return false;
  if (headroomArg < 0 || static_cast<uint32_t>(headroomArg) >= batch->slotSize) {
    ThrowRange(info.Env(), "headroom must be < slotSize");
    return false;
  }
  *headroom = static_cast<uint32_t>(headroomArg);
  return true;
}

const uint8_t kZeroVnetHeader[12] = {0};

bool ReadFrameWriteArgs(const Napi::CallbackInfo& info, size_t dropSlots, FrameWriteArgs* out) {
  if (!ReadInt(info, 0, &out->fd) || !ReadBatchView(info, 1, &out->batch) ||
      !ReadSlotList(info, 6, out->batch, &out->slots, &out->n)) {
    return false;
  }
  out->drops = ReadCounter(info, 8, dropSlots);
  if (out->drops == nullptr) return false;
  out->vnetHeaderLength = 0;
  if (info.Length() > 9 && !ReadInt(info, 9, &out->vnetHeaderLength)) return false;
  out->headerless = out->vnetHeaderLength > 0 && info.Length() > 10 && info[10].ToBoolean().Value();
  if (out->headerless && out->vnetHeaderLength > static_cast<int32_t>(sizeof kZeroVnetHeader)) {
    ThrowRange(info.Env(), "vnetHeaderLength must be 10 or 12");
    return false;
  }
  const uint32_t ethernetHeader = 14;
  out->shortest = ethernetHeader +
                  static_cast<uint32_t>(out->vnetHeaderLength > 0 && !out->headerless ? out->vnetHeaderLength : 0);
  return true;
}

}  // namespace dvs
