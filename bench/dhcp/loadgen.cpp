// bench/dhcp/loadgen.cpp - a DHCP load generator for bench/dhcp/run (not a
// test). Standalone: libc and the C++ standard library only, compiled by the
// run script with g++ -O2.
//
// It runs full DORA exchanges (DISCOVER, OFFER, REQUEST, ACK) for N distinct
// client MACs, W of them in flight at once, as raw Ethernet frames on one
// interface (an AF_PACKET socket: each frame carries the client's own MAC as
// its Ethernet source and chaddr, from 0.0.0.0:68 to 255.255.255.255:67, the
// broadcast flag set so every server answers by broadcast). A step that gets
// no answer within --timeout-ms is sent again, at most --retries times; then
// the client counts as failed. The whole run stops after --max-seconds.
//
//   loadgen --iface eth0 --clients 10000 [--window 64] [--timeout-ms 1000]
//           [--retries 4] [--seed N] [--max-seconds 300]
//
// Prints one line of key=value figures on stdout:
//   clients done failed naks retransmits duplicates elapsed dora_per_s
//   p50_ms p99_ms
// (duplicates: ACKs that gave an address already ACKed to another MAC in
// this run; must be 0). Exit 0 if every client was ACKed without duplicate,
// 1 otherwise, 2 on usage or setup errors. Needs CAP_NET_RAW; run it only
// inside a network namespace made for it.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string iface;
  long clients = 1000;
  long window = 64;
  long timeout_ms = 1000;
  long retries = 4;
  unsigned long seed = 1;
  long max_seconds = 300;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen --iface IF --clients N [--window W] [--timeout-ms T]\n"
               "               [--retries R] [--seed S] [--max-seconds S]\n",
               why);
  std::exit(2);
}

long number(const char* text, const char* flag, long low, long high) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < low || v > high) {
    std::fprintf(stderr, "loadgen: %s wants a number in [%ld, %ld], got '%s'\n", flag, low, high, text);
    std::exit(2);
  }
  return v;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("DORA load generator (see the top of loadgen.cpp)");
    if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
    const char* v = argv[++i];
    if (flag == "--iface") a.iface = v;
    else if (flag == "--clients") a.clients = number(v, "--clients", 1, 1000000);
    else if (flag == "--window") a.window = number(v, "--window", 1, 100000);
    else if (flag == "--timeout-ms") a.timeout_ms = number(v, "--timeout-ms", 1, 60000);
    else if (flag == "--retries") a.retries = number(v, "--retries", 0, 100);
    else if (flag == "--seed") a.seed = static_cast<unsigned long>(number(v, "--seed", 0, 0xFFFF));
    else if (flag == "--max-seconds") a.max_seconds = number(v, "--max-seconds", 1, 3600);
    else usage(("unknown flag " + flag).c_str());
  }
  if (a.iface.empty()) usage("--iface is required");
  return a;
}

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2 != 0) sum += static_cast<std::uint32_t>(p[n - 1] << 8);
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}
std::uint32_t get32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

enum class Step { idle, want_offer, want_ack, done, failed };

struct Client {
  std::uint8_t mac[6];
  std::uint32_t xid = 0;
  Step step = Step::idle;
  int tries = 0;
  Clock::time_point sent;
  Clock::time_point started;
  std::uint32_t offered = 0;    // yiaddr of the OFFER, host order
  std::uint32_t server_id = 0;  // option 54 of the OFFER, host order
};

constexpr const char* vendor = "Cisco Systems, Inc. IP Phone CP-7960G";

// An Ethernet + IPv4 + UDP + BOOTP frame from the client; returns its length.
std::size_t build(std::uint8_t* f, const Client& c, int type) {
  std::memset(f, 0, 600);
  std::memset(f, 0xFF, 6);  // broadcast destination
  std::memcpy(f + 6, c.mac, 6);
  put16(f + 12, 0x0800);
  std::uint8_t* d = f + 14 + 20 + 8;  // BOOTP
  d[0] = 1;                           // BOOTREQUEST
  d[1] = 1;
  d[2] = 6;
  put32(d + 4, c.xid);
  put16(d + 10, 0x8000);  // broadcast flag
  std::memcpy(d + 28, c.mac, 6);
  put32(d + 236, 0x63825363);
  std::uint8_t* o = d + 240;
  *o++ = 53, *o++ = 1, *o++ = static_cast<std::uint8_t>(type);
  *o++ = 61, *o++ = 7, *o++ = 1;  // client identifier, as most clients send
  std::memcpy(o, c.mac, 6), o += 6;
  const std::size_t vlen = std::strlen(vendor);
  *o++ = 60, *o++ = static_cast<std::uint8_t>(vlen);
  std::memcpy(o, vendor, vlen), o += vlen;
  const std::uint8_t asked[] = {55, 6, 1, 3, 6, 15, 66, 150};
  std::memcpy(o, asked, sizeof asked), o += sizeof asked;
  if (type == 3) {  // REQUEST in SELECTING state
    *o++ = 54, *o++ = 4, put32(o, c.server_id), o += 4;
    *o++ = 50, *o++ = 4, put32(o, c.offered), o += 4;
  }
  *o++ = 255;
  std::size_t bootp = static_cast<std::size_t>(o - d);
  if (bootp < 300) bootp = 300;  // BOOTP minimum, as real clients pad
  const std::size_t udp = 8 + bootp;
  std::uint8_t* ip = f + 14;
  ip[0] = 0x45;
  put16(ip + 2, static_cast<std::uint16_t>(20 + udp));
  ip[8] = 64;
  ip[9] = 17;
  put32(ip + 12, 0);
  put32(ip + 16, 0xFFFFFFFF);
  put16(ip + 10, fold(sum16(ip, 20)));
  std::uint8_t* u = ip + 20;
  put16(u, 68);
  put16(u + 2, 67);
  put16(u + 4, static_cast<std::uint16_t>(udp));
  std::uint32_t s = sum16(ip + 12, 8) + 17 + static_cast<std::uint32_t>(udp);
  std::uint16_t ck = fold(sum16(u, udp, s));
  put16(u + 6, ck == 0 ? 0xFFFF : ck);
  return 14 + 20 + udp;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const int ifindex = static_cast<int>(::if_nametoindex(args.iface.c_str()));
  if (ifindex == 0) {
    std::fprintf(stderr, "loadgen: no interface %s\n", args.iface.c_str());
    return 2;
  }
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
  if (fd < 0) {
    std::perror("loadgen: AF_PACKET socket (needs CAP_NET_RAW)");
    return 2;
  }
  sockaddr_ll bind_to{};
  bind_to.sll_family = AF_PACKET;
  bind_to.sll_protocol = htons(ETH_P_IP);
  bind_to.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0) {
    std::perror("loadgen: bind");
    return 2;
  }
  int buffer = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);

  std::vector<Client> clients(static_cast<std::size_t>(args.clients));
  std::unordered_map<std::uint32_t, std::size_t> by_xid;
  by_xid.reserve(clients.size() * 2);
  const std::uint32_t xid_base = static_cast<std::uint32_t>(args.seed) << 20 ^ 0x5eed0000U;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    auto& c = clients[i];
    // 02:SS:SS:II:II:II - locally administered, seed then index.
    c.mac[0] = 0x02;
    c.mac[1] = static_cast<std::uint8_t>(args.seed >> 8);
    c.mac[2] = static_cast<std::uint8_t>(args.seed);
    c.mac[3] = static_cast<std::uint8_t>(i >> 16);
    c.mac[4] = static_cast<std::uint8_t>(i >> 8);
    c.mac[5] = static_cast<std::uint8_t>(i);
    c.xid = xid_base + static_cast<std::uint32_t>(i);
    by_xid.emplace(c.xid, i);
  }

  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::memset(to.sll_addr, 0xFF, 6);
  std::uint8_t frame[1600];
  long send_errors = 0;
  auto send = [&](Client& c, int type) {
    const auto n = build(frame, c, type);
    while (::sendto(fd, frame, n, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 1);
        continue;
      }
      ++send_errors;
      break;
    }
    c.sent = Clock::now();
  };

  std::vector<std::size_t> in_flight;
  std::size_t next = 0, done = 0, failed = 0;
  long naks = 0, retransmits = 0, duplicates = 0;
  std::unordered_set<std::uint32_t> acked_addresses;
  std::vector<double> latency_ms;
  latency_ms.reserve(clients.size());
  const auto timeout = std::chrono::milliseconds(args.timeout_ms);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(args.max_seconds);
  bool out_of_time = false;

  auto finish = [&](std::size_t index, Step how) {
    clients[index].step = how;
    in_flight.erase(std::find(in_flight.begin(), in_flight.end(), index));
    if (how == Step::done) ++done;
    else ++failed;
  };

  while (done + failed < clients.size()) {
    while (in_flight.size() < static_cast<std::size_t>(args.window) && next < clients.size()) {
      auto& c = clients[next];
      c.step = Step::want_offer;
      c.started = Clock::now();
      send(c, 1);
      in_flight.push_back(next++);
    }
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 5);
    std::uint8_t in[2048];
    while (true) {
      sockaddr_ll from{};
      socklen_t from_len = sizeof from;
      const auto n = ::recvfrom(fd, in, sizeof in, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) break;
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      if (n < 14 + 20 + 8 + 240) continue;
      const std::uint8_t* ip = in + 14;
      if ((ip[0] >> 4) != 4 || ip[9] != 17) continue;
      const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0F) * 4;
      const std::uint8_t* u = ip + ihl;
      if (u + 8 + 240 > in + n || (u[2] << 8 | u[3]) != 68) continue;
      const std::uint8_t* d = u + 8;
      const std::uint8_t* end = in + n;
      if (d[0] != 2 || get32(d + 236) != 0x63825363) continue;
      const auto it = by_xid.find(get32(d + 4));
      if (it == by_xid.end()) continue;
      Client& c = clients[it->second];
      if (std::memcmp(d + 28, c.mac, 6) != 0) continue;
      int type = 0;
      std::uint32_t server_id = 0;
      for (const std::uint8_t* o = d + 240; o < end && *o != 255;) {
        if (*o == 0) {
          ++o;
          continue;
        }
        if (o + 2 > end || o + 2 + o[1] > end) break;
        if (o[0] == 53 && o[1] == 1) type = o[2];
        if (o[0] == 54 && o[1] == 4) server_id = get32(o + 2);
        o += 2 + o[1];
      }
      if (type == 2 && c.step == Step::want_offer) {
        c.offered = get32(d + 16);
        c.server_id = server_id;
        c.step = Step::want_ack;
        c.tries = 0;
        send(c, 3);
      } else if (type == 5 && c.step == Step::want_ack) {
        const std::uint32_t yiaddr = get32(d + 16);
        if (!acked_addresses.insert(yiaddr).second) ++duplicates;
        latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c.started).count());
        finish(it->second, Step::done);
      } else if (type == 6 && c.step == Step::want_ack) {
        ++naks;
        finish(it->second, Step::failed);
      }
    }
    const auto now = Clock::now();
    if (now > deadline) {
      out_of_time = true;
      break;
    }
    for (std::size_t k = 0; k < in_flight.size();) {
      Client& c = clients[in_flight[k]];
      if (now - c.sent < timeout) {
        ++k;
        continue;
      }
      if (++c.tries > args.retries) {
        finish(in_flight[k], Step::failed);
        continue;
      }
      ++retransmits;
      send(c, c.step == Step::want_offer ? 1 : 3);
      ++k;
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double q) {
    if (latency_ms.empty()) return 0.0;
    return latency_ms[static_cast<std::size_t>(q * static_cast<double>(latency_ms.size() - 1))];
  };
  std::printf(
      "clients=%ld done=%zu failed=%zu naks=%ld retransmits=%ld duplicates=%ld send_errors=%ld "
      "elapsed=%.3f dora_per_s=%.1f p50_ms=%.2f p99_ms=%.2f%s\n",
      args.clients, done, failed + (clients.size() - done - failed), naks, retransmits, duplicates,
      send_errors, elapsed, static_cast<double>(done) / elapsed, pct(0.5), pct(0.99),
      out_of_time ? " out_of_time=1" : "");
  return (done == clients.size() && duplicates == 0) ? 0 : 1;
}
