// The server policy as a pure function of (state, packet, now), time from a
// ManualClock: DORA, every REQUEST state, DECLINE, RELEASE, INFORM, relays,
// reservations, pool exhaustion, --only-vendor, option 55/57 handling.
#include <doctest/doctest.h>

#include <chrono>

#include "cf/dhcp/policy.hpp"
#include "cf/net/event_loop.hpp"

using namespace cf::dhcp;
using cf::net::Ipv4;

namespace {

const auto phone_class = "Cisco Systems, Inc. IP Phone CP-7960G";

Ipv4 ip(const char* text) { return *Ipv4::parse(text); }
MacAddress mac(const char* text) { return *MacAddress::parse(text); }

struct Fixture {
  cf::net::ManualClock clock{cf::net::Clock::time_point{std::chrono::seconds(1'700'000'000)}};
  Config config;
  State state;

  Fixture() {
    config.server_id = ip("10.0.0.1");
    config.pools.push_back(*parse_pool("10.0.0.100-10.0.0.102", cf::net::Ipv4Network::parse("10.0.0.0/24")));
    config.routers.push_back(ip("10.0.0.1"));
    const std::vector<Ipv4> tftp{ip("192.168.1.1")};
    config.options.set_ipv4_list(option::tftp_servers, tftp);
    config.options.set_text(option::tftp_server_name, "192.168.1.1");
    config.lease_time = 3600;
  }

  UnixTime now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  }

  Message message(MessageType type, const MacAddress& who) {
    Message m;
    m.xid = 42;
    m.set_mac(who);
    m.options.set_u8(option::message_type, static_cast<std::uint8_t>(type));
    m.options.set_text(option::vendor_class, phone_class);
    const Bytes asked{std::byte{1}, std::byte{3}, std::byte{150}, std::byte{66}};
    m.options.set(option::parameter_list, asked);
    return m;
  }

  Outcome run(const Message& m, bool to_broadcast = true) {
    Incoming in;
    in.message = m;
    in.from = {Ipv4{}, 68};
    in.to_broadcast = to_broadcast;
    in.interface_address = config.server_id;
    return handle(state, config, in, now());
  }

  // DISCOVER, OFFER, REQUEST (selecting), ACK; returns the address.
  Ipv4 dora(const MacAddress& who) {
    const auto offer = run(message(MessageType::discover, who));
    REQUIRE(offer.reply);
    auto request = message(MessageType::request, who);
    request.options.set_ipv4(option::server_id, config.server_id);
    request.options.set_ipv4(option::requested_address, offer.reply->yiaddr);
    const auto ack = run(request);
    REQUIRE(ack.reply);
    REQUIRE(ack.reply->type() == MessageType::ack);
    return ack.reply->yiaddr;
  }
};

const auto phone_a = mac("00:1b:54:00:00:0a");
const auto phone_b = mac("00:1b:54:00:00:0b");
const auto phone_c = mac("00:1b:54:00:00:0c");
const auto phone_d = mac("00:1b:54:00:00:0d");

}  // namespace

TEST_CASE("DISCOVER gets an OFFER with option 150, 66, mask, router and lease times") {
  Fixture f;
  const auto out = f.run(f.message(MessageType::discover, phone_a));
  REQUIRE(out.reply);
  const auto& offer = *out.reply;
  CHECK(offer.type() == MessageType::offer);
  CHECK(offer.op == 2);
  CHECK(offer.xid == 42);
  CHECK(offer.yiaddr == ip("10.0.0.100"));
  CHECK(offer.options.ipv4(option::server_id) == ip("10.0.0.1"));
  CHECK(offer.options.u32(option::lease_time) == 3600u);
  CHECK(offer.options.u32(option::renewal_time) == 1800u);
  CHECK(offer.options.u32(option::rebinding_time) == 3150u);
  CHECK(offer.options.ipv4(option::subnet_mask) == ip("255.255.255.0"));
  CHECK(offer.options.ipv4_list(option::router) == std::vector<Ipv4>{ip("10.0.0.1")});
  const Bytes want150{std::byte{0xC0}, std::byte{0xA8}, std::byte{0x01}, std::byte{0x01}};
  CHECK(*offer.options.find(option::tftp_servers) == want150);
  CHECK(offer.options.text(option::tftp_server_name) == "192.168.1.1");
  CHECK(out.persist.empty());  // an offer is not a lease
  REQUIRE(out.events.size() == 2);
  CHECK(out.events[0].name == "discover");
  CHECK(out.events[1].name == "offer");
  CHECK(out.events[1].vendor_class == phone_class);
  // No broadcast flag, no ciaddr: straight to the MAC (RFC 2131 4.1)
  CHECK(out.destination.kind == Destination::Kind::link_unicast);
  CHECK(out.destination.mac == phone_a);
  CHECK(out.destination.to == cf::net::SocketAddress{ip("10.0.0.100"), 68});
}

TEST_CASE("the asked-for options come first, in option 55 order") {
  Fixture f;
  auto m = f.message(MessageType::discover, phone_a);
  const Bytes asked{std::byte{150}, std::byte{1}};
  m.options.set(option::parameter_list, asked);
  const auto out = f.run(m);
  std::vector<int> codes;
  for (const auto& [code, value] : out.reply->options.entries()) codes.push_back(code);
  // 53, 54 (base), 51, 58, 59 (lease), 1 (essential), then 150 before the rest
  REQUIRE(codes.size() >= 7);
  CHECK(codes[5] == 1);
  CHECK(codes[6] == 150);
}

TEST_CASE("REQUEST in SELECTING state gets an ACK and a lease to persist") {
  Fixture f;
  const auto address = f.dora(phone_a);
  CHECK(address == ip("10.0.0.100"));
  const auto* lease = f.state.leases.find(phone_a);
  REQUIRE(lease);
  CHECK(lease->expiry == f.now() + 3600);
  CHECK(lease->vendor_class == phone_class);
  CHECK(f.state.offers.empty());
}

TEST_CASE("ACK carries the lease to persist and the ack event") {
  Fixture f;
  f.run(f.message(MessageType::discover, phone_a));
  auto request = f.message(MessageType::request, phone_a);
  request.options.set_ipv4(option::server_id, f.config.server_id);
  request.options.set_ipv4(option::requested_address, ip("10.0.0.100"));
  request.options.set_text(option::hostname, "SEP001B5400000A");
  const auto out = f.run(request);
  REQUIRE(out.persist.size() == 1);
  CHECK(out.persist[0].hostname == "SEP001B5400000A");
  CHECK(out.events.back().name == "ack");
  CHECK(out.events.back().reason == "selecting");
}

TEST_CASE("REQUEST naming another server withdraws our offer silently") {
  Fixture f;
  f.run(f.message(MessageType::discover, phone_a));
  auto request = f.message(MessageType::request, phone_a);
  request.options.set_ipv4(option::server_id, ip("10.0.0.254"));
  request.options.set_ipv4(option::requested_address, ip("10.0.0.100"));
  const auto out = f.run(request);
  CHECK_FALSE(out.reply);
  CHECK(f.state.offers.empty());
  CHECK(f.state.leases.size() == 0);
}

TEST_CASE("INIT-REBOOT: own address ACKed, a foreign one NAKed, wrong network NAKed") {
  Fixture f;
  const auto a = f.dora(phone_a);
  const auto b = f.dora(phone_b);
  auto reboot = f.message(MessageType::request, phone_a);
  reboot.options.set_ipv4(option::requested_address, a);
  auto out = f.run(reboot);
  CHECK(out.reply->type() == MessageType::ack);
  CHECK(out.events.back().reason == "init-reboot");

  reboot.options.set_ipv4(option::requested_address, b);
  out = f.run(reboot);
  CHECK(out.reply->type() == MessageType::nak);
  CHECK(out.destination.kind == Destination::Kind::broadcast);
  CHECK(out.reply->yiaddr.is_unspecified());
  CHECK(out.events.back().name == "nak");

  reboot.options.set_ipv4(option::requested_address, ip("172.16.0.5"));
  out = f.run(reboot);
  CHECK(out.reply->type() == MessageType::nak);
  CHECK(out.reply->options.text(option::message)->find("not on this network") != std::string::npos);
}

TEST_CASE("RENEWING is unicast to ciaddr; REBINDING is recognised from a broadcast") {
  Fixture f;
  const auto a = f.dora(phone_a);
  f.clock.advance(std::chrono::seconds(1800));
  auto renew = f.message(MessageType::request, phone_a);
  renew.ciaddr = a;
  auto out = f.run(renew, /*to_broadcast=*/false);
  CHECK(out.reply->type() == MessageType::ack);
  CHECK(out.events.back().reason == "renewing");
  CHECK(out.destination.kind == Destination::Kind::unicast);
  CHECK(out.destination.to == cf::net::SocketAddress{a, 68});
  CHECK(out.reply->ciaddr == a);
  CHECK(f.state.leases.find(phone_a)->expiry == f.now() + 3600);

  out = f.run(renew, /*to_broadcast=*/true);
  CHECK(out.events.back().reason == "rebinding");
  CHECK(out.reply->type() == MessageType::ack);

  auto stranger = f.message(MessageType::request, phone_c);
  stranger.ciaddr = a;  // phone_a's address
  out = f.run(stranger, false);
  CHECK(out.reply->type() == MessageType::nak);
}

TEST_CASE("the pool runs out, and an expired lease is reused after that") {
  Fixture f;
  CHECK(f.dora(phone_a) == ip("10.0.0.100"));
  CHECK(f.dora(phone_b) == ip("10.0.0.101"));
  CHECK(f.dora(phone_c) == ip("10.0.0.102"));
  const auto full = f.run(f.message(MessageType::discover, phone_d));
  CHECK_FALSE(full.reply);
  CHECK(full.events.back().reason == "pool exhausted");
  // Offers hold addresses too: an outstanding offer is not handed to another.
  f.clock.advance(std::chrono::seconds(3601));
  CHECK(f.dora(phone_d) == ip("10.0.0.100"));  // the oldest expired lease
  CHECK(f.state.leases.find(phone_a) == nullptr);
}

TEST_CASE("exhaustion of a fully leased large pool is known without walking the pool") {
  Fixture f;
  f.config.pools = {*parse_pool("10.1.0.1-10.1.15.254", cf::net::Ipv4Network::parse("10.1.0.0/20"))};
  f.config.routers.clear();
  f.config.server_id = ip("10.1.0.1");
  const auto first = ip("10.1.0.2");
  std::uint32_t n = 0;
  for (auto a = std::optional<Ipv4>(first); a && *a <= ip("10.1.15.254"); a = a->next(), ++n) {
    MacAddress m;
    m.octets = {0x02, 0, 0, 0, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    f.state.leases.put({m, *a, f.now() + 3600 + n, {}, {}});
  }
  REQUIRE(f.state.leases.size() == 4093);
  Incoming in;
  in.interface_address = f.config.server_id;
  for (int i = 0; i < 300; ++i) {
    MacAddress m;
    m.octets = {0x06, 0, 0, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    in.message = f.message(MessageType::discover, m);
    const auto out = handle(f.state, f.config, in, f.now());
    REQUIRE_FALSE(out.reply);
    CHECK(out.events.back().reason == "pool exhausted");
  }
  // The old search visited all 4093 addresses per DISCOVER; now none is visited.
  CHECK(f.state.reuse_steps == 0);
  // The first lease to run out is reused at once, found first in expiry order.
  f.clock.advance(std::chrono::seconds(3601));
  MacAddress late;
  late.octets = {0x06, 1, 1, 1, 1, 1};
  in.message = f.message(MessageType::discover, late);
  const auto out = handle(f.state, f.config, in, f.now());
  REQUIRE(out.reply);
  CHECK(out.reply->yiaddr == first);
  CHECK(f.state.reuse_steps == 1);
}

TEST_CASE("an outstanding offer is not offered to a second client") {
  Fixture f;
  const auto first = f.run(f.message(MessageType::discover, phone_a));
  const auto second = f.run(f.message(MessageType::discover, phone_b));
  CHECK(first.reply->yiaddr != second.reply->yiaddr);
  // The same client asking again gets the same offer.
  const auto again = f.run(f.message(MessageType::discover, phone_a));
  CHECK(again.reply->yiaddr == first.reply->yiaddr);
}

TEST_CASE("same MAC gets the same address back, even after the lease expired") {
  Fixture f;
  f.dora(phone_a);
  const auto b = f.dora(phone_b);
  f.clock.advance(std::chrono::hours(5));
  CHECK(f.dora(phone_b) == b);
}

TEST_CASE("reservations: fixed address with its name, refused to others") {
  Fixture f;
  f.config.reservations.push_back({phone_b, ip("10.0.0.50"), "lobby"});
  validate(f.config);
  auto discover = f.message(MessageType::discover, phone_b);
  Bytes asked{std::byte{12}};
  discover.options.set(option::parameter_list, asked);
  const auto out = f.run(discover);
  CHECK(out.reply->yiaddr == ip("10.0.0.50"));
  CHECK(out.reply->options.text(option::hostname) == "lobby");
  CHECK(f.dora(phone_b) == ip("10.0.0.50"));
  CHECK(f.state.leases.find(phone_b)->hostname == "lobby");
  // Another client asking for it by option 50 is NAKed
  auto steal = f.message(MessageType::request, phone_a);
  steal.options.set_ipv4(option::requested_address, ip("10.0.0.50"));
  CHECK(f.run(steal).reply->type() == MessageType::nak);
  // A reserved address inside the pool range is not handed out dynamically
  f.config.reservations.push_back({phone_c, ip("10.0.0.100"), ""});
  CHECK(f.dora(phone_a) == ip("10.0.0.101"));
}

TEST_CASE("DECLINE quarantines the address for --decline-time") {
  Fixture f;
  f.config.decline_quarantine = 600;
  const auto a = f.dora(phone_a);
  auto decline = f.message(MessageType::decline, phone_a);
  decline.options.set_ipv4(option::requested_address, a);
  decline.options.set_ipv4(option::server_id, f.config.server_id);
  const auto out = f.run(decline);
  CHECK_FALSE(out.reply);
  REQUIRE(out.persist.size() == 1);
  CHECK(out.persist[0].address.is_unspecified());  // the tombstone
  CHECK(out.events.back().name == "decline");
  CHECK(f.state.leases.find(phone_a) == nullptr);
  // Neither the decliner nor anyone else gets it while quarantined
  CHECK(f.dora(phone_a) != a);
  CHECK(f.dora(phone_b) != a);
  f.clock.advance(std::chrono::seconds(601));
  expire(f.state, f.now());
  CHECK(f.state.quarantine.empty());
  CHECK(f.dora(phone_c) == a);
}

TEST_CASE("a DECLINE of an address the client does not hold is ignored") {
  Fixture f;
  const auto a = f.dora(phone_a);
  auto decline = f.message(MessageType::decline, phone_b);
  decline.options.set_ipv4(option::requested_address, a);
  const auto out = f.run(decline);
  CHECK(out.events.back().name == "ignore");
  CHECK(f.state.quarantine.empty());
  CHECK(f.state.leases.find(phone_a) != nullptr);
}

TEST_CASE("RELEASE ends the lease but keeps the address for the same MAC") {
  Fixture f;
  const auto a = f.dora(phone_a);
  auto release = f.message(MessageType::release, phone_a);
  release.ciaddr = a;
  const auto out = f.run(release);
  CHECK_FALSE(out.reply);
  REQUIRE(out.persist.size() == 1);
  CHECK(out.persist[0].expiry == f.now());
  CHECK_FALSE(f.state.leases.find(phone_a)->active(f.now()));
  CHECK(f.dora(phone_a) == a);
  // A release by someone else changes nothing
  auto foreign = f.message(MessageType::release, phone_b);
  foreign.ciaddr = a;
  CHECK(f.run(foreign).persist.empty());
}

TEST_CASE("INFORM gets options without a lease, unicast to ciaddr") {
  Fixture f;
  auto inform = f.message(MessageType::inform, phone_a);
  inform.ciaddr = ip("10.0.0.77");
  const auto out = f.run(inform, false);
  REQUIRE(out.reply);
  CHECK(out.reply->type() == MessageType::ack);
  CHECK(out.reply->yiaddr.is_unspecified());
  CHECK_FALSE(out.reply->options.contains(option::lease_time));
  CHECK(out.reply->options.contains(option::tftp_servers));
  CHECK(out.destination.kind == Destination::Kind::unicast);
  CHECK(out.destination.to.address == ip("10.0.0.77"));
  CHECK(out.persist.empty());
  CHECK(f.state.leases.size() == 0);
}

TEST_CASE("a relayed DISCOVER gets the relay's pool, option 82 echoed, reply to the relay") {
  Fixture f;
  f.config.pools.push_back(*parse_pool("10.9.0.10-10.9.0.20/24", std::nullopt));
  auto discover = f.message(MessageType::discover, phone_a);
  discover.giaddr = ip("10.9.0.1");
  const Bytes agent{std::byte{1}, std::byte{3}, std::byte{'p'}, std::byte{'1'}, std::byte{'7'}};
  discover.options.set(option::relay_agent_info, agent);
  const auto out = f.run(discover);
  REQUIRE(out.reply);
  CHECK(out.reply->yiaddr == ip("10.9.0.10"));
  CHECK(out.reply->giaddr == ip("10.9.0.1"));
  CHECK(*out.reply->options.find(option::relay_agent_info) == agent);
  CHECK(out.reply->options.entries().back().first == option::relay_agent_info);
  // No configured router on that subnet: the relay is the router
  CHECK(out.reply->options.ipv4_list(option::router) == std::vector<Ipv4>{ip("10.9.0.1")});
  CHECK(out.destination.kind == Destination::Kind::relay);
  CHECK(out.destination.to == cf::net::SocketAddress{ip("10.9.0.1"), 67});
  // A relay on an unknown subnet gets nothing
  discover.giaddr = ip("10.8.0.1");
  CHECK_FALSE(f.run(discover).reply);
}

TEST_CASE("the broadcast flag makes the reply a broadcast") {
  Fixture f;
  auto discover = f.message(MessageType::discover, phone_a);
  discover.flags = Message::broadcast_flag;
  const auto out = f.run(discover);
  CHECK(out.destination.kind == Destination::Kind::broadcast);
  CHECK(out.destination.to == cf::net::SocketAddress{Ipv4::limited_broadcast(), 68});
  CHECK(out.reply->wants_broadcast());
}

TEST_CASE("--only-vendor ignores clients whose option 60 does not start so") {
  Fixture f;
  f.config.only_vendor = "Cisco Systems, Inc. IP Phone";
  auto pc = f.message(MessageType::discover, phone_b);
  pc.options.set_text(option::vendor_class, "MSFT 5.0");
  auto out = f.run(pc);
  CHECK_FALSE(out.reply);
  CHECK(out.events.back().name == "ignore");
  pc.options.erase(option::vendor_class);
  CHECK_FALSE(f.run(pc).reply);
  CHECK(f.run(f.message(MessageType::discover, phone_a)).reply);
}

TEST_CASE("the reply is cut to fit option 57, dropping unasked options first") {
  Fixture f;
  Bytes big(200, std::byte{'x'});
  f.config.options.set(224, big);   // not asked for
  f.config.options.set(225, big);   // asked for
  f.config.options.set(226, big);   // asked for
  auto discover = f.message(MessageType::discover, phone_a);
  const Bytes asked{std::byte{150}, std::byte{225}, std::byte{226}};
  discover.options.set(option::parameter_list, asked);
  auto out = f.run(discover);  // no option 57: 576 - 28 = 548 bytes
  CHECK(serialize(*out.reply).size() <= 548);
  CHECK_FALSE(out.reply->options.contains(224));
  CHECK(out.reply->options.contains(225));
  CHECK(out.reply->options.contains(150));
  CHECK(out.reply->options.contains(option::server_id));

  discover.options.set_u16(option::max_message_size, 1500);
  out = f.run(discover);
  CHECK(out.reply->options.contains(224));
  CHECK(out.reply->options.contains(226));
}

TEST_CASE("a large option 82 never pushes option 150 out, and counts against the budget") {
  Fixture f;
  f.config.pools.push_back(*parse_pool("10.9.0.10-10.9.0.20/24", std::nullopt));
  f.config.options.set_text(option::domain_name, std::string(120, 'd'));
  f.config.options.set(224, Bytes(60, std::byte{'x'}));
  auto discover = f.message(MessageType::discover, phone_a);
  discover.giaddr = ip("10.9.0.1");
  // The phone asks for the domain name before 150 and 66 (the order in option
  // 55 would otherwise decide what is dropped first).
  const Bytes asked{std::byte{1}, std::byte{3}, std::byte{15}, std::byte{150}, std::byte{66}};
  discover.options.set(option::parameter_list, asked);
  const Bytes agent(240, std::byte{0x01});  // room left for the essentials, 150 and 66, not 15
  discover.options.set(option::relay_agent_info, agent);
  auto out = f.run(discover);
  REQUIRE(out.reply);
  CHECK(serialize(*out.reply).size() <= 548);  // option 82 inside the budget
  CHECK(*out.reply->options.find(option::relay_agent_info) == agent);
  CHECK(out.reply->options.ipv4_list(option::tftp_servers) == std::vector<Ipv4>{ip("192.168.1.1")});
  CHECK_FALSE(out.reply->options.contains(224));
  CHECK_FALSE(out.reply->options.contains(option::domain_name));  // asked, but dropped before 150/66
  CHECK(out.reply->options.contains(option::tftp_server_name));

  // The same through REQUEST: the ACK keeps 150 too.
  auto request = f.message(MessageType::request, phone_a);
  request.giaddr = discover.giaddr;
  request.options.set(option::parameter_list, asked);
  request.options.set(option::relay_agent_info, agent);
  request.options.set_ipv4(option::server_id, f.config.server_id);
  request.options.set_ipv4(option::requested_address, out.reply->yiaddr);
  const auto ack = f.run(request);
  REQUIRE(ack.reply);
  CHECK(ack.reply->type() == MessageType::ack);
  CHECK(serialize(*ack.reply).size() <= 548);
  CHECK(ack.reply->options.contains(option::tftp_servers));

  // An option 82 so large that even the essentials do not fit: no reply beyond
  // the limit, an ignore event that says why, and no lease.
  discover.options.set(option::relay_agent_info, Bytes(400, std::byte{0x02}));
  auto huge = f.message(MessageType::discover, phone_b);
  huge.giaddr = discover.giaddr;
  huge.options.set(option::relay_agent_info, Bytes(400, std::byte{0x02}));
  out = f.run(huge);
  CHECK_FALSE(out.reply);
  CHECK(out.events.back().name == "ignore");
  CHECK(out.events.back().reason.find("option 82") != std::string::npos);
  CHECK(f.state.offers.find(phone_b) == nullptr);
}

TEST_CASE("packets that are not client requests are ignored") {
  Fixture f;
  auto reply = f.message(MessageType::offer, phone_a);
  CHECK_FALSE(f.run(reply).reply);
  reply.op = 2;
  CHECK(f.run(reply).events.back().reason == "not a BOOTREQUEST");
  Message bootp;
  bootp.set_mac(phone_a);
  CHECK(f.run(bootp).events.back().reason.find("option 53") != std::string::npos);
  Message token_ring = f.message(MessageType::discover, phone_a);
  token_ring.htype = 6;
  CHECK_FALSE(f.run(token_ring).reply);
}

TEST_CASE("route_reply follows RFC 2131 4.1") {
  Message request, reply;
  reply.options.set_u8(option::message_type, 5);
  reply.yiaddr = ip("10.0.0.5");
  request.set_mac(phone_a);
  CHECK(route_reply(request, reply, 68, 67).kind == Destination::Kind::link_unicast);
  request.flags = Message::broadcast_flag;
  CHECK(route_reply(request, reply, 68, 67).kind == Destination::Kind::broadcast);
  request.ciaddr = ip("10.0.0.5");
  CHECK(route_reply(request, reply, 68, 67).kind == Destination::Kind::unicast);
  request.giaddr = ip("10.9.0.1");
  const auto relay = route_reply(request, reply, 1068, 1067);
  CHECK(relay.kind == Destination::Kind::relay);
  CHECK(relay.to.port == 1067);
  request.giaddr = Ipv4{};
  reply.options.set_u8(option::message_type, 6);
  CHECK(route_reply(request, reply, 68, 67).kind == Destination::Kind::broadcast);
}
