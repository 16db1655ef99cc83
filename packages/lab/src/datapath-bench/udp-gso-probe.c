// The measurement that led netdev's native send to UDP GSO (UDP_SEGMENT,
// Linux >= 4.18): the sender's CPU time per 1472-byte packet with sendmmsg of
// 64 packets (netdev's send before; still what DVS_UDP_GSO=0 gives) against
// sendmsg with UDP_SEGMENT (one message carries up to 44 packets of one
// destination; the kernel cuts them late), which netdev's native send now
// does for runs to one destination. Kept to re-measure the kernel's side
// apart from dvs. Not part of the build; docs/performance.md quotes its
// figures. Run as root:
//
//   gcc -O2 -o /tmp/udp-gso-probe udp-gso-probe.c
//   ip netns add dvbg-a; ip netns add dvbg-b
//   ip -n dvbg-a link add dvbu type veth peer name dvbu netns dvbg-b
//   ip -n dvbg-a addr add 198.51.100.1/24 dev dvbu; ip -n dvbg-a link set dvbu up
//   ip -n dvbg-b addr add 198.51.100.2/24 dev dvbu; ip -n dvbg-b link set dvbu up
//   ip netns exec dvbg-b /tmp/udp-gso-probe recv 198.51.100.2 1472 2.6 &
//   ip netns exec dvbg-a /tmp/udp-gso-probe mmsg 198.51.100.2 1472 2   # or: gso
//   ip netns del dvbg-a; ip netns del dvbg-b
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

enum { BATCH = 64, SLOT = 2048 };
static char buffers[BATCH][SLOT];

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s recv|mmsg|gso <address> <payload bytes> <seconds>\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  int size = atoi(argv[3]);
  double duration = atof(argv[4]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(4789)};
  inet_pton(AF_INET, argv[2], &addr.sin_addr);
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = buffers[i];
    iov[i].iov_len = strcmp(mode, "recv") == 0 ? SLOT : (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  long packets = 0;
  double t0 = seconds(), c0 = cpu_seconds();
  if (strcmp(mode, "recv") == 0) {
    if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0) return perror("bind"), 1;
    struct timeval tick = {0, 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick);
    while (seconds() - t0 < duration) {
      int r = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
      if (r > 0) packets += r;
    }
  } else if (strcmp(mode, "mmsg") == 0) {
    for (int i = 0; i < BATCH; i++) {
      msgs[i].msg_hdr.msg_name = &addr;
      msgs[i].msg_hdr.msg_namelen = sizeof addr;
    }
    while (seconds() - t0 < duration) {
      int r = sendmmsg(fd, msgs, BATCH, 0);
      if (r > 0) packets += r;
    }
  } else {
    int segments = 65000 / size < BATCH ? 65000 / size : BATCH;
    char control[CMSG_SPACE(sizeof(uint16_t))];
    struct msghdr h = {.msg_name = &addr, .msg_namelen = sizeof addr, .msg_iov = iov, .msg_iovlen = segments,
                       .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    *(uint16_t*)CMSG_DATA(c) = (uint16_t)size;
    while (seconds() - t0 < duration) {
      if (sendmsg(fd, &h, 0) < 0) return perror("sendmsg (UDP_SEGMENT)"), 1;
      packets += segments;
    }
  }
  double wall = seconds() - t0;
  printf("%s: %ld packets, %.0f packets/s, %.2f us CPU per packet\n", mode, packets, packets / wall,
         (cpu_seconds() - c0) * 1e6 / (packets > 0 ? packets : 1));
  return 0;
}
