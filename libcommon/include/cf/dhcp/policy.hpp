#pragma once
// The server's decisions as a pure function of (state, packet, now): which
// address a client gets, ACK or NAK for each REQUEST state (RFC 2131 4.3.2),
// DECLINE quarantine, RELEASE, INFORM, the reply's options and where the reply
// goes (RFC 2131 4.1). No sockets, no clocks: the server passes `now` in and
// does what the Outcome says.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cf/dhcp/config.hpp"
#include "cf/dhcp/lease.hpp"
#include "cf/dhcp/message.hpp"
#include "cf/net/udp.hpp"

namespace cf::dhcp {

struct Offer {
  net::Ipv4 address;
  UnixTime until = 0;
};

struct State {
  LeaseTable leases;
  std::map<MacAddress, Offer> offers;           // in memory only: an offer is a promise for seconds
  std::map<net::Ipv4, UnixTime> quarantine;     // declined addresses and when they may return
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

Outcome handle(State& state, const Config& config, const Incoming& incoming, UnixTime now);

}  // namespace cf::dhcp
