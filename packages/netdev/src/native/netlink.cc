#include "netlink.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dvs {
namespace nl {

namespace {

// How long one request may wait for the kernel's answer. The kernel answers
// rtnetlink requests while it processes them (before sendmsg returns), so
// this only turns a broken socket into an error instead of a hang.
constexpr int kAnswerTimeoutMs = 5000;
// One receive: the largest dump message the kernel builds is 32 KiB.
constexpr size_t kReceiveBuffer = 64 * 1024;
// Receives per ReadNotifications call without a dump: a fair share of the
// loop for a busy monitor; it is called again while more is pending.
constexpr int kNotificationReads = 64;
// A batch is one sendmsg; the kernel refuses messages longer than the send
// buffer (EMSGSIZE), so the socket's is raised to hold the largest batch.
constexpr int kSendBuffer = 1024 * 1024;

int SendAll(int fd, const char* data, size_t size) {
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t sent = sendto(fd, data, size, 0, reinterpret_cast<struct sockaddr*>(&kernel), sizeof kernel);
    if (sent >= 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// Waits until fd is readable; 0, or ETIMEDOUT / the poll errno.
int WaitReadable(int fd) {
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, kAnswerTimeoutMs);
    if (ready > 0) return 0;
    if (ready == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
  }
}

}  // namespace

size_t MessageBuilder::Reserve(size_t bytes) {
  size_t at = buffer_.size();
  buffer_.resize(at + NLMSG_ALIGN(bytes), 0);
  return at;
}

void MessageBuilder::Begin(uint16_t type, uint16_t flags, uint32_t seq, const void* header, size_t headerSize) {
  start_ = Reserve(NLMSG_HDRLEN + headerSize);
  auto* h = reinterpret_cast<struct nlmsghdr*>(buffer_.data() + start_);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = seq;
  memcpy(buffer_.data() + start_ + NLMSG_HDRLEN, header, headerSize);
}

void MessageBuilder::Put(uint16_t type, const void* data, size_t size) {
  size_t at = Reserve(RTA_LENGTH(size));
  auto* a = reinterpret_cast<struct rtattr*>(buffer_.data() + at);
  a->rta_type = type;
  a->rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
  if (size > 0) memcpy(RTA_DATA(a), data, size);
}

size_t MessageBuilder::BeginNest(uint16_t type) {
  size_t at = Reserve(RTA_LENGTH(0));
  reinterpret_cast<struct rtattr*>(buffer_.data() + at)->rta_type = type | NLA_F_NESTED;
  return at;
}

void MessageBuilder::EndNest(size_t offset) {
  reinterpret_cast<struct rtattr*>(buffer_.data() + offset)->rta_len =
      static_cast<unsigned short>(buffer_.size() - offset);
}

void MessageBuilder::End() {
  reinterpret_cast<struct nlmsghdr*>(buffer_.data() + start_)->nlmsg_len =
      static_cast<uint32_t>(buffer_.size() - start_);
  count_++;
}

int OpenRouteSocket(uint32_t groups, int receiveBuffer) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  int on = 1;
  // Best effort: a kernel without them still works, with shorter errors.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on);
  int send = kSendBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &send, sizeof send) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send, sizeof send);
  }
  if (receiveBuffer > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveBuffer, sizeof receiveBuffer) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof addr);
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = groups;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

Ack ParseAck(const struct nlmsghdr* h) {
  Ack ack;
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
    ack.error = EBADMSG;
    return ack;
  }
  auto* e = static_cast<const struct nlmsgerr*>(NLMSG_DATA(h));
  ack.error = -e->error;
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return ack;
  // The TLVs follow the nlmsgerr, and the echoed request unless capped.
  size_t offset = sizeof(struct nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
  size_t payload = h->nlmsg_len - NLMSG_HDRLEN;
  if (offset >= payload) return ack;
  auto* first = reinterpret_cast<const struct rtattr*>(static_cast<const char*>(NLMSG_DATA(h)) + offset);
  ForEachAttr(first, static_cast<int>(payload - offset), [&](const struct rtattr* a) {
    if (a->rta_type == NLMSGERR_ATTR_MSG) ack.message = String(a);
  });
  return ack;
}

int Transact(int fd, const MessageBuilder& batch, uint32_t firstSeq, Ack* acks) {
  uint32_t count = batch.count();
  std::vector<bool> answered(count, false);
  uint32_t remaining = count;
  int err = SendAll(fd, batch.data(), batch.size());
  bool overflow = false;
  static thread_local char buffer[kReceiveBuffer];
  while (err == 0 && remaining > 0) {
    ssize_t r = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        // Acks were dropped: the socket's queue was full. Those that came
        // are kept; the missing ones cannot be recovered.
        overflow = true;
        continue;
      }
      if (errno == EAGAIN) {
        // The kernel processes the whole batch inside sendmsg, so after an
        // overflow nothing more is coming.
        if (overflow) break;
        err = WaitReadable(fd);
        continue;
      }
      err = errno;
      break;
    }
    size_t left = static_cast<size_t>(r);
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      uint32_t index = h->nlmsg_seq - firstSeq;
      if (index >= count || answered[index]) continue;
      answered[index] = true;
      acks[index] = ParseAck(h);
      remaining--;
    }
  }
  if (remaining == 0) return 0;
  int unanswered = overflow ? ENOBUFS : err;
  for (uint32_t i = 0; i < count; i++) {
    if (!answered[i]) acks[i] = Ack{unanswered, ""};
  }
  return unanswered;
}

int Request(int fd, const MessageBuilder& request, uint32_t seq,
            const std::function<void(const struct nlmsghdr*)>& onMessage, std::string* message) {
  int err = SendAll(fd, request.data(), request.size());
  if (err != 0) return err;
  static thread_local char buffer[kReceiveBuffer];
  for (;;) {
    ssize_t r = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        err = WaitReadable(fd);
        if (err != 0) return err;
        continue;
      }
      return errno;
    }
    size_t left = static_cast<size_t>(r);
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      // An answer to an earlier request that timed out: not ours.
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        // A dump that failed part-way ends with its error in NLMSG_DONE.
        int done = 0;
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) memcpy(&done, NLMSG_DATA(h), sizeof done);
        return done < 0 ? -done : 0;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        Ack ack = ParseAck(h);
        if (message != nullptr) *message = ack.message;
        return ack.error;
      }
      onMessage(h);
      if (!(h->nlmsg_flags & NLM_F_MULTI)) return 0;
    }
  }
}

int ReadNotifications(int fd, const MessageBuilder* dump, uint32_t seq,
                      const std::function<void(const struct nlmsghdr*, bool)>& onMessage, bool* overflow) {
  *overflow = false;
  if (dump != nullptr) {
    int err = SendAll(fd, dump->data(), dump->size());
    if (err != 0) return err;
  }
  bool waiting = dump != nullptr;
  static thread_local char buffer[kReceiveBuffer];
  for (int reads = 0; waiting || reads < kNotificationReads; reads++) {
    ssize_t r = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        *overflow = true;
        continue;
      }
      if (errno == EAGAIN && waiting) {
        int err = WaitReadable(fd);
        if (err != 0) return err;
        continue;
      }
      if (errno == EAGAIN) break;
      return errno;
    }
    size_t left = static_cast<size_t>(r);
    for (auto* h = reinterpret_cast<struct nlmsghdr*>(buffer); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
      bool ofDump = dump != nullptr && h->nlmsg_seq == seq;
      if (ofDump && (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)) {
        waiting = false;
        continue;
      }
      onMessage(h, ofDump);
    }
  }
  return 0;
}

uint8_t U8(const struct rtattr* a) { return RTA_PAYLOAD(a) >= 1 ? *static_cast<const uint8_t*>(RTA_DATA(a)) : 0; }

uint16_t U16(const struct rtattr* a) {
  uint16_t v = 0;
  if (RTA_PAYLOAD(a) >= 2) memcpy(&v, RTA_DATA(a), 2);
  return v;
}

uint32_t U32(const struct rtattr* a) {
  uint32_t v = 0;
  if (RTA_PAYLOAD(a) >= 4) memcpy(&v, RTA_DATA(a), 4);
  return v;
}

uint64_t U64(const struct rtattr* a) {
  uint64_t v = 0;
  if (RTA_PAYLOAD(a) >= 8) memcpy(&v, RTA_DATA(a), 8);
  return v;
}

std::string String(const struct rtattr* a) {
  auto* data = static_cast<const char*>(RTA_DATA(a));
  return std::string(data, strnlen(data, RTA_PAYLOAD(a)));
}

std::string MacText(const uint8_t* bytes, size_t size) {
  std::string mac;
  char part[4];
  for (size_t i = 0; i < size && i < 32; i++) {
    snprintf(part, sizeof part, i == 0 ? "%02x" : ":%02x", bytes[i]);
    mac += part;
  }
  return mac;
}

std::string AddressText(const void* bytes, size_t size) {
  char text[64];
  if (size == 4) {
    auto* b = static_cast<const uint8_t*>(bytes);
    snprintf(text, sizeof text, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    return text;
  }
  if (size == 16 && inet_ntop(AF_INET6, bytes, text, sizeof text) != nullptr) return text;
  return "";
}

}  // namespace nl
}  // namespace dvs
