#pragma once
// The cisco-tftpd server: one event loop, one listening socket, and one new
// socket (a new transfer ID, RFC 1350 section 4) per transfer. It ties the
// codec, the negotiation, the state machines, the resolver and the phone
// tracker to file descriptors and time; all protocol decisions live in those.
// Beside it: transfer.hpp (the state machines, pure), transfer_io.hpp (the
// io_uring and epoll backends), file_blocks.hpp (where a download's blocks
// come from), upload.hpp (WRQ files), server_events.hpp (what is reported),
// transfer_socket.hpp (a new TID per transfer).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "cf/net/event_loop.hpp"
#include "cf/net/udp.hpp"
#include "cf/tftp/file_cache.hpp"
#include "cf/tftp/options.hpp"
#include "cf/tftp/phones.hpp"
#include "cf/tftp/resolver.hpp"
#include "cf/tftp/server_events.hpp"
#include "cf/tftp/transfer.hpp"
#include "cf/tftp/transfer_io.hpp"
#include "cf/tftp/transfer_socket.hpp"

namespace cf::tftp {

struct ServerConfig {
  net::SocketAddress listen{net::Ipv4::any(), 69};
  std::string device;  // --iface: SO_BINDTODEVICE on every socket
  std::uint16_t port_low = 0, port_high = 0;  // --port-range; 0: ephemeral ports
  ResolverOptions files;
  NegotiationLimits limits;
  Duration timeout = std::chrono::seconds(1);
  unsigned retries = 6;
  unsigned first_ack_retries = 2;  // timeouts before a never-answered transfer is freed
  std::size_t max_transfers = 1000;
  std::size_t max_per_client = 16;
  std::string upload_dir;                   // empty: WRQ refused
  std::uint64_t upload_max = 256ull << 20;  // bytes per upload
  PhoneTrackerSettings phones;
  std::size_t max_loads_bytes = 64 * 1024;  // .loads files larger than this are not parsed
  IoChoice io = IoChoice::automatic;            // --io
  std::size_t cache_bytes = 64ull << 20;        // --cache-bytes; 0: every block read from disk
};

// How many transfers fit in `fd_limit` file descriptors: each holds two (its
// socket and its file, or its upload), after a reserve for the listening
// socket, epoll, signals, timers, the event log, stdio, the roots and the
// directories opened during lookups (issue 13 item 7).
std::size_t transfers_for_fd_limit(std::uint64_t fd_limit, std::size_t roots);

// One active transfer, for the live view.
struct TransferView {
  std::uint64_t id = 0;
  net::SocketAddress client;
  std::string mac;
  std::string file;
  bool upload = false;
  std::uint64_t size = 0;  // 0 for uploads
  std::uint64_t bytes = 0;
  std::uint32_t blksize = 512, windowsize = 1;
  TimePoint started{};
};

class Server {
 public:
  // Every event as a JSON object (ts, event, client, ...), and one human line
  // per event for stderr (quiet ones flagged so a front end may hide them).
  using EventSink = std::function<void(const nlohmann::json& event)>;
  using LogSink = std::function<void(bool quiet, const std::string& line)>;

  // Binds the listening socket (throws cf::Error) and opens the roots.
  Server(ServerConfig config, net::EventLoop& loop, EventSink events, LogSink log,
         const firmware::ModelCatalog* catalog = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  net::SocketAddress listen_address() const;
  // What the listening socket asks for: a fleet booting at once sends its read
  // requests within a second, and the kernel's default (net.core.rmem_default,
  // ~208 KiB) holds only a few hundred; the rest wait out the phones' retry.
  static constexpr int kListenReceiveBuffer = 1 << 20;
  // What the kernel granted: less without CAP_NET_ADMIN when net.core.rmem_max
  // is lower.
  int listen_receive_buffer() const;
  // Stops taking requests; active transfers may finish within `grace`, then
  // are aborted. `done` runs once nothing is left.
  void shut_down(Duration grace, std::function<void()> done);

  std::vector<TransferView> active() const;
  std::size_t active_count() const noexcept { return transfers_.size(); }
  const PhoneTracker& phones() const noexcept { return tracker_; }
  // "io_uring", "epoll", or "epoll (io_uring unavailable: REASON)".
  const std::string& io_description() const noexcept { return io_description_; }
  IoBackend io_backend() const noexcept { return io_->kind(); }
  const FileCache& cache() const noexcept { return cache_; }

 private:
  struct Transfer;
  void on_request_readable();
  void handle_request(const net::Received& from, std::span<const std::byte> datagram);
  void start_read(const net::SocketAddress& client, std::optional<net::Ipv4> local,
                  const Request& request);
  void start_write(const net::SocketAddress& client, std::optional<net::Ipv4> local,
                   const Request& request);
  bool reclaim_unanswered();
  void refuse(const net::SocketAddress& client, const Request* request, ErrorCode code,
              const std::string& message, const std::string& result, bool quiet);
  std::unique_ptr<Transfer> new_transfer(const net::SocketAddress& client,
                                         std::optional<net::Ipv4> local, const Request& request,
                                         Negotiated negotiated);
  // What the settings of a read and of a write take alike from the
  // negotiation and the configuration (defined in server_transfer.hpp).
  template <typename Settings>
  Settings transfer_settings(const Negotiated& negotiated) const;
  Transfer* install(std::unique_ptr<Transfer> transfer);
  void on_transfer_datagram(std::uint64_t id, const net::SocketAddress& from,
                            std::span<const std::byte> datagram);
  void on_transfer_timer(std::uint64_t id);
  void apply(Transfer& t, const ReadStep& step);
  void apply(Transfer& t, const WriteStep& step, std::span<const std::byte> payload);
  bool send_block(Transfer& t, std::uint64_t block);
  void arm(Transfer& t, std::optional<TimePoint> when);
  void finish(std::uint64_t id, const std::string& result, const std::string& detail);
  void emit(ServerEvent event);
  void emit_phone_events(const net::SocketAddress& client, const std::vector<PhoneEvent>& events);
  void check_shutdown();

  ServerConfig config_;
  net::EventLoop& loop_;
  EventSink events_;
  LogSink log_;
  Resolver resolver_;
  net::UniqueFd listen_fd_;
  net::UniqueFd upload_dir_fd_;
  PhoneTracker tracker_;
  FileCache cache_;
  TransferSockets sockets_;
  std::unique_ptr<TransferIo> io_;
  std::string io_description_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::unordered_map<net::Ipv4, std::size_t> per_client_;
  std::set<std::uint64_t> unanswered_;  // transfers the client never answered, oldest first
  std::uint64_t next_id_ = 1;
  std::vector<std::byte> receive_buffer_;
  std::vector<std::byte> send_buffer_;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  std::optional<net::TimerId> grace_timer_;
};

}  // namespace cf::tftp
