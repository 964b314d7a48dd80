// bench/tftp/loadgen.cpp - a TFTP load generator for bench/tftp/run (not a
// test). Standalone: libc and the C++ standard library only, compiled by the
// run script with g++ -O2, like bench/dhcp/loadgen.cpp.
//
// N simulated phones fetch one file from one server at the same time, each
// from its own UDP socket and source address (127.1.X.Y, so a server's
// per-client limits see N clients, as with real phones). Each phone sends an
// RRQ (octet, blksize B, and windowsize W when W > 1), takes the OACK if one
// comes (RFC 2347), ACKs every block in lock-step, or the last block of each
// window (RFC 7440), streams the payload through a 64-bit hash and, at the
// short last block, checks length and hash against the local copy of the
// file. It fetches the file --rounds times, then stops.
//
// Why it is cheap per block: one epoll_wait serves many ready phones, a block
// costs one recvfrom, one sendto (lock-step; one per window otherwise) and a
// word-at-a-time hash; no per-block allocation. A phone that hears nothing for
// --timeout-ms resends its last packet (RRQ or ACK), at most --retries times,
// then counts as failed.
//
//   loadgen --server 127.0.0.1:69 --file NAME --expect LOCALPATH --phones N
//           [--rounds R] [--blksize B] [--windowsize W] [--timeout-ms T]
//           [--retries R] [--max-seconds S]
//
// Prints one line of key=value figures on stdout:
//   phones rounds ok failed blocks bytes resent_acks elapsed blocks_per_s
//   mb_per_s gen_cpu_s blksize windowsize_granted
// (windowsize_granted: the windowsize in the server's OACK, 1 if it left the
// option out or sent no OACK). Exit 0 if every transfer matched, 3 if any was
// corrupt or short, 1 if any failed otherwise, 2 on usage or setup errors.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  sockaddr_in server{};
  std::string file;
  std::string expect;
  long phones = 50;
  long rounds = 1;
  long blksize = 1428;
  long windowsize = 1;
  long timeout_ms = 1000;
  long retries = 5;
  long max_seconds = 600;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "loadgen: %s\nusage: loadgen --server ADDR:PORT --file NAME --expect PATH --phones N\n"
               "               [--rounds R] [--blksize B] [--windowsize W] [--timeout-ms T]\n"
               "               [--retries R] [--max-seconds S]\n",
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

sockaddr_in parse_address(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) usage("--server wants ADDR:PORT");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (::inet_pton(AF_INET, text.substr(0, colon).c_str(), &a.sin_addr) != 1)
    usage("--server: not an IPv4 address");
  a.sin_port = htons(static_cast<std::uint16_t>(number(text.c_str() + colon + 1, "--server port", 1, 65535)));
  return a;
}

Args parse(int argc, char** argv) {
  Args a;
  bool have_server = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("TFTP load generator (see the top of loadgen.cpp)");
    if (i + 1 >= argc) usage(("missing value for " + flag).c_str());
    const char* v = argv[++i];
    if (flag == "--server") {
      a.server = parse_address(v);
      have_server = true;
    } else if (flag == "--file") a.file = v;
    else if (flag == "--expect") a.expect = v;
    else if (flag == "--phones") a.phones = number(v, "--phones", 1, 60000);
    else if (flag == "--rounds") a.rounds = number(v, "--rounds", 1, 1000000);
    else if (flag == "--blksize") a.blksize = number(v, "--blksize", 8, 65464);
    else if (flag == "--windowsize") a.windowsize = number(v, "--windowsize", 1, 64);
    else if (flag == "--timeout-ms") a.timeout_ms = number(v, "--timeout-ms", 10, 60000);
    else if (flag == "--retries") a.retries = number(v, "--retries", 0, 100);
    else if (flag == "--max-seconds") a.max_seconds = number(v, "--max-seconds", 1, 86400);
    else usage(("unknown flag " + flag).c_str());
  }
  if (!have_server || a.file.empty() || a.expect.empty()) usage("--server, --file and --expect are required");
  if (a.file.size() > 400) usage("--file: name too long");
  return a;
}

// A word-at-a-time 64-bit hash fed block by block in order; blocks of the
// negotiated blksize, so the expected value depends on it (computed per
// blksize from the local file).
struct StreamHash {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  void block(const unsigned char* p, std::size_t n) {
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 29;
    }
    std::uint64_t tail = n;
    for (; i < n; ++i) tail = tail << 8 | p[i];
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 32;
  }
};

struct Expected {
  std::vector<unsigned char> bytes;
  std::map<std::uint32_t, std::uint64_t> by_blksize;
  std::uint64_t hash_for(std::uint32_t blksize) {
    if (auto it = by_blksize.find(blksize); it != by_blksize.end()) return it->second;
    StreamHash s;
    std::size_t off = 0;
    for (;;) {
      const auto n = std::min<std::size_t>(blksize, bytes.size() - off);
      s.block(bytes.data() + off, n);
      off += n;
      if (n < blksize) break;
    }
    return by_blksize[blksize] = s.h;
  }
};

enum class Phase { requesting, receiving, done, failed };

struct Phone {
  int fd = -1;
  sockaddr_in local{};
  std::uint16_t server_port = 0;  // the transfer's port, learned from its first answer
  Phase phase = Phase::requesting;
  long round = 0;
  std::uint32_t blksize = 512;
  std::uint32_t window = 1;
  std::uint64_t next_block = 1;  // 64-bit count; the wire carries the low 16 bits
  std::uint64_t acked = 0;       // the window restarts after the block last ACKed
  std::uint64_t bytes = 0;
  StreamHash hash;
  unsigned char last[1024];  // the last packet sent (RRQ or ACK), resent on timeout
  std::size_t last_len = 0;
  Clock::time_point heard{};
  long tries = 0;
};

struct Totals {
  long ok = 0, failed = 0, corrupt = 0;
  std::uint64_t blocks = 0, bytes = 0, resent = 0;
  std::uint32_t blksize = 0, windowsize = 1;
};

void send_last(const Args& a, Phone& p) {
  sockaddr_in to = a.server;
  if (p.phase == Phase::receiving && p.server_port) to.sin_port = p.server_port;
  (void)::sendto(p.fd, p.last, p.last_len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void send_rrq(const Args& a, Phone& p) {
  std::size_t n = 0;
  auto put = [&](const std::string& s) {
    std::memcpy(p.last + n, s.c_str(), s.size() + 1);
    n += s.size() + 1;
  };
  p.last[0] = 0;
  p.last[1] = 1;
  n = 2;
  put(a.file);
  put("octet");
  put("blksize");
  put(std::to_string(a.blksize));
  if (a.windowsize > 1) {
    put("windowsize");
    put(std::to_string(a.windowsize));
  }
  p.last_len = n;
  p.phase = Phase::requesting;
  p.server_port = 0;
  p.blksize = 512;
  p.window = 1;
  p.next_block = 1;
  p.acked = 0;
  p.bytes = 0;
  p.hash = StreamHash{};
  p.tries = 0;
  send_last(a, p);
}

void send_ack(const Args& a, Phone& p, std::uint16_t block) {
  p.last[0] = 0;
  p.last[1] = 4;
  p.last[2] = static_cast<unsigned char>(block >> 8);
  p.last[3] = static_cast<unsigned char>(block & 0xFF);
  p.last_len = 4;
  send_last(a, p);
}

// OACK (RFC 2347): name/value pairs; only blksize and windowsize matter here.
void take_oack(Phone& p, const unsigned char* d, std::size_t n, Totals& t) {
  std::vector<std::string> fields;
  std::size_t i = 2;
  while (i < n) {
    const auto* end = static_cast<const unsigned char*>(std::memchr(d + i, 0, n - i));
    if (!end) break;
    fields.emplace_back(reinterpret_cast<const char*>(d + i), static_cast<std::size_t>(end - (d + i)));
    i = static_cast<std::size_t>(end - d) + 1;
  }
  for (std::size_t k = 0; k + 1 < fields.size(); k += 2) {
    std::string name = fields[k];
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const long v = std::atol(fields[k + 1].c_str());
    if (name == "blksize" && v >= 8 && v <= 65464) p.blksize = static_cast<std::uint32_t>(v);
    if (name == "windowsize" && v >= 1 && v <= 64) p.window = static_cast<std::uint32_t>(v);
  }
  t.blksize = p.blksize;
  t.windowsize = std::max(t.windowsize, p.window);
}

void finish_round(const Args& a, Phone& p, Expected& e, Totals& t) {
  if (p.bytes == e.bytes.size() && p.hash.h == e.hash_for(p.blksize)) {
    ++t.ok;
  } else {
    ++t.corrupt;
    std::fprintf(stderr, "loadgen: phone %s:%u got %llu bytes, hash %s\n", ::inet_ntoa(p.local.sin_addr),
                 ntohs(p.local.sin_port), static_cast<unsigned long long>(p.bytes),
                 p.bytes == e.bytes.size() ? "differs" : "not checked");
  }
  if (++p.round >= a.rounds) {
    p.phase = Phase::done;
    return;
  }
  // A new transfer needs a new TID (RFC 1350 section 4): same socket would be
  // taken for a duplicate RRQ by servers that track (addr, port).
  p.phase = Phase::requesting;
}

void on_packet(const Args& a, Phone& p, const unsigned char* d, std::size_t n, std::uint16_t from_port,
               Expected& e, Totals& t, Clock::time_point now) {
  if (n < 4 || p.phase == Phase::done || p.phase == Phase::failed) return;
  if (p.server_port && from_port != p.server_port) return;
  const unsigned op = d[0] << 8 | d[1];
  if (op == 5) {  // ERROR
    std::fprintf(stderr, "loadgen: server error %u: %.*s\n", d[2] << 8 | d[3], static_cast<int>(n - 4),
                 reinterpret_cast<const char*>(d + 4));
    p.phase = Phase::failed;
    ++t.failed;
    return;
  }
  if (p.phase == Phase::requesting) {
    p.server_port = from_port;
    p.phase = Phase::receiving;
    if (op == 6) {
      take_oack(p, d, n, t);
      p.heard = now;
      p.tries = 0;
      send_ack(a, p, 0);
      return;
    }
    if (t.blksize == 0) t.blksize = 512;  // no OACK: RFC 1350 defaults
  }
  if (op != 3) return;
  const std::uint16_t wire = static_cast<std::uint16_t>(d[2] << 8 | d[3]);
  const std::size_t len = n - 4;
  p.heard = now;
  p.tries = 0;
  if (wire != static_cast<std::uint16_t>(p.next_block)) {
    // A block out of order (lost or repeated): ACK the last in-order block so
    // the server restarts the window after it (RFC 7440 section 4), or, in
    // lock-step, so a lost ACK is replaced.
    ++t.resent;
    p.acked = p.next_block - 1;
    send_ack(a, p, static_cast<std::uint16_t>(p.acked));
    return;
  }
  p.hash.block(d + 4, len);
  p.bytes += len;
  ++t.blocks;
  t.bytes += len;
  const bool last = len < p.blksize;
  const bool window_end = p.next_block - p.acked >= p.window;
  if (last || window_end) {
    p.acked = p.next_block;
    send_ack(a, p, wire);
  }
  ++p.next_block;
  if (last) finish_round(a, p, e, t);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  Expected expected;
  {
    const int fd = ::open(a.expect.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      std::fprintf(stderr, "loadgen: cannot open %s: %s\n", a.expect.c_str(), std::strerror(errno));
      return 2;
    }
    expected.bytes.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < expected.bytes.size()) {
      const auto n = ::read(fd, expected.bytes.data() + got, expected.bytes.size() - got);
      if (n <= 0) {
        std::fprintf(stderr, "loadgen: cannot read %s\n", a.expect.c_str());
        return 2;
      }
      got += static_cast<std::size_t>(n);
    }
    ::close(fd);
  }

  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return 2;
  std::vector<Phone> phones(static_cast<std::size_t>(a.phones));
  for (std::size_t i = 0; i < phones.size(); ++i) {
    auto& p = phones[i];
    p.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p.fd < 0) {
      std::fprintf(stderr, "loadgen: socket: %s (raise ulimit -n)\n", std::strerror(errno));
      return 2;
    }
    const int buffer = 1 << 20;
    ::setsockopt(p.fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    p.local.sin_family = AF_INET;
    p.local.sin_addr.s_addr = htonl(0x7F010000u | static_cast<std::uint32_t>((i / 250) << 8 | (i % 250 + 1)));
    if (::bind(p.fd, reinterpret_cast<sockaddr*>(&p.local), sizeof p.local) != 0) {
      std::fprintf(stderr, "loadgen: bind: %s\n", std::strerror(errno));
      return 2;
    }
    socklen_t len = sizeof p.local;
    ::getsockname(p.fd, reinterpret_cast<sockaddr*>(&p.local), &len);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, p.fd, &ev);
  }

  Totals t;
  const auto start = Clock::now();
  const auto timeout = std::chrono::milliseconds(a.timeout_ms);
  for (auto& p : phones) {
    p.heard = start;
    send_rrq(a, p);
  }
  long active = a.phones;
  std::vector<epoll_event> events(512);
  unsigned char buffer[65536 + 4];
  auto next_scan = start + std::chrono::milliseconds(50);
  bool out_of_time = false;
  while (active > 0) {
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    const auto now = Clock::now();
    for (int k = 0; k < n; ++k) {
      auto& p = phones[events[static_cast<std::size_t>(k)].data.u64];
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      const auto got = ::recvfrom(p.fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
      if (got < 0) continue;
      on_packet(a, p, buffer, static_cast<std::size_t>(got), from.sin_port, expected, t, now);
      if (p.phase == Phase::requesting) {
        // The round ended and another starts: a fresh socket is a fresh TID.
        ::epoll_ctl(ep, EPOLL_CTL_DEL, p.fd, nullptr);
        ::close(p.fd);
        p.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in local = p.local;
        local.sin_port = 0;
        const int rcv = 1 << 20;
        ::setsockopt(p.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
        if (p.fd < 0 || ::bind(p.fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
          p.phase = Phase::failed;
          ++t.failed;
          --active;
          continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = events[static_cast<std::size_t>(k)].data.u64;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, p.fd, &ev);
        p.heard = now;
        send_rrq(a, p);
      }
      if (p.phase == Phase::done || p.phase == Phase::failed) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, p.fd, nullptr);
        ::close(p.fd);
        p.fd = -1;
        --active;
      }
    }
    if (now >= next_scan) {
      next_scan = now + std::chrono::milliseconds(50);
      for (auto& p : phones) {
        if (p.fd < 0 || now - p.heard < timeout) continue;
        if (++p.tries > a.retries) {
          std::fprintf(stderr, "loadgen: a phone gave up after %ld tries: %s\n", p.tries,
                       p.phase == Phase::requesting ? "no answer to its RRQ" : "no next block");
          p.phase = Phase::failed;
          ++t.failed;
          ::epoll_ctl(ep, EPOLL_CTL_DEL, p.fd, nullptr);
          ::close(p.fd);
          p.fd = -1;
          --active;
          continue;
        }
        ++t.resent;
        p.heard = now;
        send_last(a, p);
      }
      if (now - start > std::chrono::seconds(a.max_seconds)) {
        out_of_time = true;
        break;
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (out_of_time) t.failed += active;
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  const double cpu = static_cast<double>(self.ru_utime.tv_sec + self.ru_stime.tv_sec) +
                     static_cast<double>(self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6;
  std::printf(
      "phones=%ld rounds=%ld ok=%ld failed=%ld corrupt=%ld blocks=%llu bytes=%llu resent=%llu elapsed=%.3f "
      "blocks_per_s=%.0f mb_per_s=%.2f gen_cpu_s=%.3f blksize=%u windowsize_granted=%u\n",
      a.phones, a.rounds, t.ok, t.failed, t.corrupt, static_cast<unsigned long long>(t.blocks),
      static_cast<unsigned long long>(t.bytes), static_cast<unsigned long long>(t.resent), elapsed,
      static_cast<double>(t.blocks) / elapsed, static_cast<double>(t.bytes) / elapsed / 1e6, cpu, t.blksize,
      t.windowsize);
  if (t.corrupt) return 3;
  return t.failed || t.ok != a.phones * a.rounds ? 1 : 0;
}
