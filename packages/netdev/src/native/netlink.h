// The addon's one rtnetlink toolkit: building requests (attributes, nests),
// opening NETLINK_ROUTE sockets, sending a batch of requests with one ack per
// message, and reading the answer of a query or a dump. Links (rtnetlink.cc,
// link-program.cc) and the FDB (neighbour.cc) all go through it.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dvs {
namespace nl {

// Appends netlink messages to one contiguous buffer, so a batch of requests
// goes to the kernel in one sendmsg().
class MessageBuilder {
 public:
  // Starts a message: nlmsghdr, then `header` (ifinfomsg, ndmsg, …) copied in.
  void Begin(uint16_t type, uint16_t flags, uint32_t seq, const void* header, size_t headerSize);
  void Put(uint16_t type, const void* data, size_t size);
  void PutU8(uint16_t type, uint8_t value) { Put(type, &value, 1); }
  void PutU16(uint16_t type, uint16_t value) { Put(type, &value, 2); }
  void PutU32(uint16_t type, uint32_t value) { Put(type, &value, 4); }
  // A NUL-terminated string attribute.
  void PutString(uint16_t type, const std::string& value) { Put(type, value.c_str(), value.size() + 1); }
  // Opens a nested attribute; EndNest(offset) closes it.
  size_t BeginNest(uint16_t type);
  void EndNest(size_t offset);
  // Closes the message started by Begin (sets nlmsg_len).
  void End();

  const char* data() const { return buffer_.data(); }
  size_t size() const { return buffer_.size(); }
  uint32_t count() const { return count_; }
  void Clear() {
    buffer_.clear();
    count_ = 0;
  }

 private:
  size_t Reserve(size_t bytes);
  std::vector<char> buffer_;
  size_t start_ = 0;
  uint32_t count_ = 0;
};

// Opens a NETLINK_ROUTE socket (CLOEXEC, non-blocking) in the calling
// thread's network namespace, with extended acks (the kernel's reason in
// text), capped acks (no echo of the request) and strict dump checking;
// `groups` is the RTMGRP_* mask to subscribe to (0: none), `receiveBuffer` the
// socket's receive buffer (0: the default). Returns the fd, or -errno.
int OpenRouteSocket(uint32_t groups, int receiveBuffer);

// The kernel's answer to one request: 0 or a positive errno, and the
// extended-ack text when it gave one.
struct Ack {
  int error = 0;
  std::string message;
};

// Sends the batch (every message must carry NLM_F_ACK and the seqs
// firstSeq..firstSeq+count-1) in one sendmsg and collects one ack per
// message into acks[0..count). Returns 0, or the errno of the transport
// itself (send, receive, timeout): then acks of messages whose answer never
// came hold ENOBUFS (the socket overflowed: their outcome is unknown) or
// that errno.
int Transact(int fd, const MessageBuilder& batch, uint32_t firstSeq, Ack* acks);

// Sends one request (a get, or a dump with NLM_F_DUMP) with sequence `seq` and
// calls onMessage for each message of the answer, up to NLMSG_DONE or the
// single answer of a get. Returns 0, or a positive errno (the kernel's, with
// its text in *message, or the transport's).
int Request(int fd, const MessageBuilder& request, uint32_t seq,
            const std::function<void(const struct nlmsghdr*)>& onMessage, std::string* message);

// Reads what is pending on a subscribed (monitor) socket, bounded per call,
// calling onMessage(h, ofDump) for each message in arrival order. With a
// `dump` request (sequence `seq`), first sends it over the same socket (so
// the answer comes from the socket's namespace) and reads until its end;
// ofDump tells its messages from notifications. *overflow: the kernel dropped
// notifications (ENOBUFS) and the caller must read the whole table again.
// Returns 0 or a positive errno.
int ReadNotifications(int fd, const MessageBuilder* dump, uint32_t seq,
                      const std::function<void(const struct nlmsghdr*, bool)>& onMessage, bool* overflow);

// Reads the ack of an NLMSG_ERROR message: its errno (positive) and text.
Ack ParseAck(const struct nlmsghdr* h);

// Calls fn(attr) for each attribute in [first, first + length).
template <typename Fn>
void ForEachAttr(const struct rtattr* first, int length, Fn fn) {
  for (auto* a = first; RTA_OK(a, length); a = RTA_NEXT(a, length)) fn(a);
}

// The attributes nested in `a`.
template <typename Fn>
void ForEachNested(const struct rtattr* a, Fn fn) {
  ForEachAttr(static_cast<const struct rtattr*>(RTA_DATA(a)), static_cast<int>(RTA_PAYLOAD(a)), fn);
}

// Unsigned values of 1/2/4/8 bytes (0 when the attribute is shorter).
uint8_t U8(const struct rtattr* a);
uint16_t U16(const struct rtattr* a);
uint32_t U32(const struct rtattr* a);
uint64_t U64(const struct rtattr* a);
std::string String(const struct rtattr* a);
// 'xx:xx:…' for a link-layer address.
std::string MacText(const uint8_t* bytes, size_t size);
// IPv4 (4 bytes) or IPv6 (16 bytes) as text; '' for any other size.
std::string AddressText(const void* bytes, size_t size);

}  // namespace nl
}  // namespace dvs
