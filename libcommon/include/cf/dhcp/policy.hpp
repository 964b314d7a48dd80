#pragma once
// The server's decisions as a pure function of (state, packet, now): which
// address a client gets, ACK or NAK for each REQUEST state (RFC 2131 4.3.2),
// DECLINE quarantine, RELEASE, INFORM, the reply's options and where the reply
// goes (RFC 2131 4.1). No sockets, no clocks: the server passes `now` in and
// does what the Outcome says.
#include <map>
#include <set>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include "cf/dhcp/address_set.hpp"
#include "cf/dhcp/config.hpp"
#include "cf/dhcp/lease.hpp"
#include "cf/dhcp/message.hpp"
#include "cf/net/udp.hpp"

namespace cf::dhcp {

struct Offer {
  net::Ipv4 address;
  UnixTime until = 0;
  friend bool operator==(const Offer&, const Offer&) = default;
};

// The open offers, in memory only (an offer is a promise for seconds), found
// by MAC, by address (who was offered it) and by expiry, so that no lookup
// walks all of them. One offer per MAC and one per address: offering an
// address that another MAC was offered takes it from that MAC.
class OfferBook {
 public:
  const Offer* find(const MacAddress& mac) const;
  const MacAddress* holder(net::Ipv4 address) const;  // who was offered it, expired or not
  void put(const MacAddress& mac, const Offer& offer);
  bool erase(const MacAddress& mac);
  // Drops the offers with until <= now; O(dropped * log size).
  std::size_t expire(UnixTime now);
  // The lowest address in [from, to] offered to nobody.
  std::optional<net::Ipv4> first_unoffered(net::Ipv4 from, net::Ipv4 to) const {
    return addresses_.first_absent(from, to);
  }
  std::size_t size() const noexcept { return by_mac_.size(); }
  bool empty() const noexcept { return by_mac_.empty(); }

 private:
  std::map<MacAddress, Offer> by_mac_;
  std::unordered_map<net::Ipv4, MacAddress> by_address_;
  std::set<std::pair<UnixTime, MacAddress>> by_expiry_;
  AddressSet addresses_;
};

struct State {
  LeaseTable leases;
  OfferBook offers;
  std::map<net::Ipv4, UnixTime> quarantine;     // declined addresses and when they may return
  std::uint64_t reuse_steps = 0;  // expired leases examined for reuse, in all: the cost of exhaustion
};

// One received datagram, as the I/O layer saw it.
struct Incoming {
  Message message;
  net::SocketAddress from;
  bool to_broadcast = false;  // sent to a broadcast address (IP_PKTINFO), not unicast to us
  net::Ipv4 interface_address;  // this host's address on the arrival interface
  std::uint16_t client_port = 68;
  std::uint16_t server_port = 67;
};

// Where the reply goes, RFC 2131 4.1.
struct Destination {
  enum class Kind {
    relay,         // giaddr, server port
    unicast,       // ciaddr, client port
    broadcast,     // 255.255.255.255, client port
    link_unicast,  // to yiaddr at chaddr, without ARP (the client has no address yet)
  };
  Kind kind = Kind::broadcast;
  net::SocketAddress to;
  MacAddress mac;  // for link_unicast
};
std::string_view to_string(Destination::Kind kind) noexcept;

// An event for --events and the log (DESIGN contract: discover, offer, ack,
// nak, release, decline; also inform and ignore).
struct Event {
  std::string name;
  MacAddress mac;
  net::Ipv4 address;
  std::string vendor_class;
  std::string hostname;
  std::string reason;  // why a NAK or an ignore
};

struct Outcome {
  std::optional<Message> reply;
  Destination destination;
  std::vector<Lease> persist;  // durable before the reply may leave
  std::vector<Event> events;
};

Destination route_reply(const Message& request, const Message& reply, std::uint16_t client_port,
                        std::uint16_t server_port);

// Drops offers and quarantine entries that are over; leases stay (expired
// ones still tie a MAC to its address).
void expire(State& state, UnixTime now);

// Drops the offers that ran out by `now` (as expire() does), then decides.
Outcome handle(State& state, const Config& config, const Incoming& incoming, UnixTime now);

}  // namespace cf::dhcp
