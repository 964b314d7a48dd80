#include "cf/dhcp/link.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <system_error>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/dhcp/announce.hpp"

namespace cf::dhcp {
namespace {

std::string errno_text(int error) { return std::system_category().message(error); }

std::uint32_t sum_words(std::span<const std::byte> data, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < data.size(); i += 2)
    sum += std::to_integer<std::uint32_t>(data[i]) << 8 | std::to_integer<std::uint32_t>(data[i + 1]);
  if (data.size() % 2 != 0) sum += std::to_integer<std::uint32_t>(data.back()) << 8;
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = std::byte(v >> 8);
  b[at + 1] = std::byte(v & 0xFF);
}

}  // namespace

InterfaceInfo interface_info(const std::string& name) {
  InterfaceInfo info;
  info.name = name;
  info.index = static_cast<int>(::if_nametoindex(name.c_str()));
  if (info.index == 0)
    throw Error(fmt::format("--iface {}: no such interface ({})", name, errno_text(errno)));
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) throw Error(fmt::format("getifaddrs: {}", errno_text(errno)));
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
  for (auto* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET || name != entry->ifa_name)
      continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    info.address = net::Ipv4::from_uint(ntohl(sin->sin_addr.s_addr));
    if (entry->ifa_netmask != nullptr) {
      const auto* mask = reinterpret_cast<const sockaddr_in*>(entry->ifa_netmask);
      info.network =
          net::Ipv4Network::from_netmask(info.address, net::Ipv4::from_uint(ntohl(mask->sin_addr.s_addr)));
    }
    return info;
  }
  throw Error(fmt::format("--iface {} has no IPv4 address; give it one (ip addr add ...) first", name));
}

Bytes build_ipv4_udp(const net::SocketAddress& from, const net::SocketAddress& to,
                     std::span<const std::byte> payload) {
  const std::size_t udp_length = 8 + payload.size();
  const std::size_t total = 20 + udp_length;
  Bytes p(total, std::byte{0});
  p[0] = std::byte{0x45};  // version 4, header 5 words
  put16(p, 2, static_cast<std::uint16_t>(total));
  p[8] = std::byte{64};  // TTL
  p[9] = std::byte{17};  // UDP
  const auto src = from.address.to_network_bytes();
  const auto dst = to.address.to_network_bytes();
  std::copy(src.begin(), src.end(), p.begin() + 12);
  std::copy(dst.begin(), dst.end(), p.begin() + 16);
  put16(p, 10, fold(sum_words(std::span(p).first(20))));
  put16(p, 20, from.port);
  put16(p, 22, to.port);
  put16(p, 24, static_cast<std::uint16_t>(udp_length));
  std::copy(payload.begin(), payload.end(), p.begin() + 28);
  // UDP checksum over the pseudo header (RFC 768) and the datagram.
  std::uint32_t sum = sum_words(std::span(p).subspan(12, 8));
  sum += 17 + static_cast<std::uint32_t>(udp_length);
  std::uint16_t checksum = fold(sum_words(std::span(p).subspan(20), sum));
  if (checksum == 0) checksum = 0xFFFF;
  put16(p, 26, checksum);
  return p;
}

LinkSender::LinkSender(int interface_index)
    : fd_(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)),
      interface_index_(interface_index) {
  // Protocol 0: a send-only packet socket that is handed no received frames.
  if (!fd_) throw Error(fmt::format("cannot open a packet socket: {}", errno_text(errno)));
}

bool LinkSender::send(const MacAddress& to, std::span<const std::byte> ip_packet,
                      std::string& error) const {
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_IP);
  address.sll_ifindex = interface_index_;
  address.sll_halen = 6;
  std::memcpy(address.sll_addr, to.octets.data(), 6);
  const auto n = ::sendto(fd_.get(), ip_packet.data(), ip_packet.size(), 0,
                          reinterpret_cast<const sockaddr*>(&address), sizeof address);
  if (n < 0) {
    error = errno_text(errno);
    return false;
  }
  return true;
}

namespace {

net::UniqueFd announce_socket(int interface_index, std::uint16_t protocol, const MacAddress& group) {
  net::UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(protocol)));
  if (!fd) throw Error(fmt::format("cannot open a packet socket for CDP/LLDP: {}", errno_text(errno)));
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(protocol);
  address.sll_ifindex = interface_index;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw Error(fmt::format("cannot bind the CDP/LLDP packet socket: {}", errno_text(errno)));
  packet_mreq membership{};
  membership.mr_ifindex = interface_index;
  membership.mr_type = PACKET_MR_MULTICAST;
  membership.mr_alen = 6;
  std::memcpy(membership.mr_address, group.octets.data(), 6);
  if (::setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &membership, sizeof membership) != 0)
    throw Error(fmt::format("cannot join multicast group {}: {}", group.to_string(), errno_text(errno)));
  // Announcements are small and a phone repeats them every minute: a small
  // queue bounds what a flood can pile up.
  const int bytes = 256 * 1024;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  return fd;
}

}  // namespace

AnnounceReceiver::AnnounceReceiver(int interface_index)
    : cdp_(announce_socket(interface_index, ETH_P_802_2, cdp_multicast)),
      lldp_(announce_socket(interface_index, lldp_ethertype, lldp_multicast)) {}

std::optional<std::size_t> AnnounceReceiver::receive(int fd, std::span<std::byte> buffer) {
  sockaddr_ll from{};
  socklen_t from_length = sizeof from;
  const auto n = ::recvfrom(fd, buffer.data(), buffer.size(), MSG_TRUNC,
                            reinterpret_cast<sockaddr*>(&from), &from_length);
  if (n < 0) return std::nullopt;
  if (from.sll_pkttype == PACKET_OUTGOING) return 0;
  if (static_cast<std::size_t>(n) > buffer.size()) return 0;  // MSG_TRUNC: the real length
  return static_cast<std::size_t>(n);
}

std::vector<ProbeAnswer> probe_for_servers(const InterfaceInfo& interface,
                                           std::chrono::milliseconds wait,
                                           std::uint16_t client_port, std::uint16_t server_port,
                                           const std::string& vendor_class) {
  const auto fd = net::open_udp({net::Ipv4::any(), client_port},
                                {.reuse_address = true, .broadcast = true, .device = interface.name});
  std::random_device random;
  MacAddress mac;
  for (auto& octet : mac.octets) octet = static_cast<std::uint8_t>(random());
  mac.octets[0] = static_cast<std::uint8_t>((mac.octets[0] & 0xFC) | 0x02);  // local, unicast
  Message discover;
  discover.set_mac(mac);
  discover.xid = static_cast<std::uint32_t>(random());
  discover.flags = Message::broadcast_flag;
  discover.options.set_u8(option::message_type, static_cast<std::uint8_t>(MessageType::discover));
  discover.options.set_text(option::vendor_class, vendor_class);
  const Bytes asked{std::byte{1}, std::byte{3}, std::byte{option::tftp_server_name},
                    std::byte{option::tftp_servers}};
  discover.options.set(option::parameter_list, asked);
  const auto bytes = serialize(discover);
  auto send_discover = [&] {
    const auto sent = net::send_to(fd.get(), {net::Ipv4::limited_broadcast(), server_port}, bytes);
    if (sent.status != net::IoStatus::ok)
      throw Error(fmt::format("rogue-server probe: cannot send on {}: {}", interface.name,
                              sent.error_text()));
  };
  send_discover();
  auto next_send = std::chrono::steady_clock::now() + std::chrono::seconds(1);

  std::vector<ProbeAnswer> answers;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::array<std::byte, 2048> buffer{};
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (std::chrono::steady_clock::now() >= next_send) {
      send_discover();
      next_send += std::chrono::seconds(1);
    }
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000))) <= 0) continue;
    const auto got = net::receive_from(fd.get(), buffer);
    if (got.status != net::IoStatus::ok) continue;
    const auto reply = parse_message(std::span(buffer).first(got.size));
    if (!reply || reply->op != 2 || reply->xid != discover.xid ||
        reply->type() != MessageType::offer)
      continue;
    const auto id = reply->options.ipv4(option::server_id).value_or(got.peer.address);
    if (std::none_of(answers.begin(), answers.end(), [&](const ProbeAnswer& a) { return a.server_id == id; }))
      answers.push_back({id, got.peer, reply->yiaddr, reply->options.text(option::vendor_class).value_or("")});
  }
  return answers;
}

}  // namespace cf::dhcp
