#include "cf/dhcp/policy.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace cf::dhcp {
namespace {

using net::Ipv4;

// The link a request came from: the relay's (giaddr) or ours (RFC 2131 4.3.1).
Ipv4 link_address(const Config& config, const Incoming& in) {
  if (!in.message.giaddr.is_unspecified()) return in.message.giaddr;
  if (!in.interface_address.is_unspecified()) return in.interface_address;
  return config.server_id;
}

std::vector<const Pool*> pools_on_link(const Config& config, Ipv4 link) {
  std::vector<const Pool*> out;
  for (const auto& pool : config.pools)
    if (pool.network.contains(link)) out.push_back(&pool);
  return out;
}

bool on_network(const std::vector<const Pool*>& pools, Ipv4 address) {
  return std::any_of(pools.begin(), pools.end(),
                     [&](const Pool* p) { return p->network.contains(address); });
}
bool in_ranges(const std::vector<const Pool*>& pools, Ipv4 address) {
  return std::any_of(pools.begin(), pools.end(), [&](const Pool* p) { return p->contains(address); });
}

const Reservation* reservation_of(const Config& config, const MacAddress& mac) {
  for (const auto& r : config.reservations)
    if (r.mac == mac) return &r;
  return nullptr;
}
const Reservation* reservation_at(const Config& config, Ipv4 address) {
  for (const auto& r : config.reservations)
    if (r.address == address) return &r;
  return nullptr;
}

bool offered_to_other(const State& state, Ipv4 address, const MacAddress& mac, UnixTime now) {
  const auto* who = state.offers.holder(address);
  if (who == nullptr || *who == mac) return false;
  return state.offers.find(*who)->until > now;
}

// May `mac` have `address`? (Ranges and networks are checked by the caller.)
bool available_to(const State& state, const Config& config, Ipv4 address, const MacAddress& mac,
                  UnixTime now) {
  if (address == config.server_id) return false;
  if (std::find(config.routers.begin(), config.routers.end(), address) != config.routers.end())
    return false;
  if (const auto q = state.quarantine.find(address); q != state.quarantine.end() && q->second > now)
    return false;
  if (const auto* r = reservation_at(config, address); r != nullptr && r->mac != mac) return false;
  if (const auto* holder = state.leases.holder(address);
      holder != nullptr && holder->mac != mac && holder->active(now))
    return false;
  return !offered_to_other(state, address, mac, now);
}

std::optional<Ipv4> free_address(State& state, const Config& config,
                                 const std::vector<const Pool*>& pools, const MacAddress& mac,
                                 UnixTime now) {
  // Never-used addresses first: the lowest one that no lease names and no
  // open offer holds, found through the run indexes of both (O(log n) a
  // step; a step repeats only past an address that is not available for
  // another reason: the server's, a router's, a reservation, quarantine).
  for (const Pool* pool : pools) {
    auto from = std::optional<Ipv4>(pool->first);
    while (from && *from <= pool->last) {
      const auto unleased = state.leases.first_unleased(*from, pool->last);
      if (!unleased) break;
      const auto candidate = state.offers.first_unoffered(*unleased, pool->last);
      if (!candidate) break;
      if (*candidate != *unleased) {  // offered: look again from there
        from = candidate;
        continue;
      }
      if (available_to(state, config, *candidate, mac, now)) return *candidate;
      from = candidate->next();
    }
  }
  // None left: the address whose lease ran out longest ago, through the
  // leases ordered by expiry. The search stops at the first active lease, so
  // a fully leased pool costs O(log n), never a walk of the pool (issue 13,
  // item 8); it steps only over expired leases of other links or ones that
  // are offered, quarantined or reserved for another MAC.
  for (const auto& [expiry, address] : state.leases.by_expiry()) {
    if (expiry > now) break;
    ++state.reuse_steps;
    if (in_ranges(pools, address) && available_to(state, config, address, mac, now)) return address;
  }
  return std::nullopt;
}

std::optional<Ipv4> choose_address(State& state, const Config& config,
                                   const std::vector<const Pool*>& pools, const Message& request,
                                   const MacAddress& mac, UnixTime now) {
  if (const auto* r = reservation_of(config, mac); r != nullptr && on_network(pools, r->address))
    return r->address;
  if (const auto* lease = state.leases.find(mac);
      lease != nullptr && in_ranges(pools, lease->address) &&
      available_to(state, config, lease->address, mac, now))
    return lease->address;
  if (const auto* offer = state.offers.find(mac);
      offer != nullptr && in_ranges(pools, offer->address) &&
      available_to(state, config, offer->address, mac, now))
    return offer->address;
  if (const auto wanted = request.options.ipv4(option::requested_address);
      wanted && in_ranges(pools, *wanted) && available_to(state, config, *wanted, mac, now))
    return *wanted;
  return free_address(state, config, pools, mac, now);
}

// ---------------------------------------------------------------- replies

struct Candidate {
  std::uint8_t code;
  Bytes value;
  // Dropped last to first when the reply is too big: extra, then requested,
  // then important; essential options are never dropped.
  enum Rank { essential, important, requested, extra } rank;
};

// Option 150 is why a phone asks this server at all (after its loader stage it
// cannot find the TFTP server without it): never dropped. Option 66 goes only
// after every other optional one.
Candidate::Rank rank_of(std::uint8_t code, Candidate::Rank otherwise) {
  if (code == option::tftp_servers) return Candidate::essential;
  if (code == option::tftp_server_name) return Candidate::important;
  return otherwise;
}

std::size_t reply_limit(const Message& request) {
  // RFC 2132 9.10: at least 576; the value counts the IP and UDP headers.
  std::size_t limit = 576;
  if (const auto asked = request.options.u16(option::max_message_size); asked && *asked > limit)
    limit = *asked;
  return std::min<std::size_t>(limit - 28, max_udp_payload);
}

Message reply_base(const Message& request, const Config& config, MessageType type) {
  Message reply;
  reply.op = 2;
  reply.htype = request.htype;
  reply.hlen = request.hlen;
  reply.xid = request.xid;
  reply.flags = request.flags;
  reply.giaddr = request.giaddr;
  reply.chaddr = request.chaddr;
  reply.options.set_u8(option::message_type, static_cast<std::uint8_t>(type));
  reply.options.set_ipv4(option::server_id, config.server_id);
  return reply;
}

// The options of an OFFER or ACK (lease_time set) or an INFORM reply (none):
// essentials, then what option 55 asked for in its order, then the other
// configured options; the tail is dropped until the reply fits option 57,
// counting the echoed option 82 (RFC 3046 2.2) against that budget. False when
// even the options that are never dropped do not fit beside option 82.
[[nodiscard]] bool add_options(Message& reply, const Message& request, const Config& config,
                 const Pool* pool, std::optional<std::uint32_t> lease_time,
                 const std::string& hostname) {
  std::vector<Candidate> available;
  auto offer = [&](std::uint8_t code, Bytes value) {
    available.push_back({code, std::move(value), Candidate::extra});
  };
  Options scratch;
  if (pool != nullptr) {
    scratch.set_ipv4(option::subnet_mask, pool->network.netmask());
    std::vector<Ipv4> routers;
    for (auto r : config.routers)
      if (pool->network.contains(r)) routers.push_back(r);
    if (routers.empty() && !request.giaddr.is_unspecified()) routers.push_back(request.giaddr);
    if (!routers.empty()) scratch.set_ipv4_list(option::router, routers);
    scratch.set_ipv4(option::broadcast_address, pool->network.broadcast());
  }
  if (!hostname.empty()) scratch.set_text(option::hostname, hostname);
  for (const auto& [code, value] : scratch.entries()) offer(code, value);
  for (const auto& [code, value] : config.options.entries()) offer(code, value);

  std::vector<Candidate> chosen;
  if (lease_time) {
    Options times;
    times.set_u32(option::lease_time, *lease_time);
    times.set_u32(option::renewal_time, *lease_time / 2);            // RFC 2131 4.4.5 T1
    times.set_u32(option::rebinding_time, *lease_time / 8 * 7);      // T2 = 0.875 lease
    for (const auto& [code, value] : times.entries())
      chosen.push_back({code, value, Candidate::essential});
  }
  const Bytes* asked = request.options.find(option::parameter_list);
  auto was_asked = [&](std::uint8_t code) {
    return asked != nullptr && std::find(asked->begin(), asked->end(), std::byte{code}) != asked->end();
  };
  auto take = [&](std::uint8_t code, Candidate::Rank rank) {
    for (auto& c : available)
      if (c.code == code && !c.value.empty()) {
        chosen.push_back({code, std::move(c.value), rank});
        c.value.clear();
        return;
      }
  };
  if (pool != nullptr) take(option::subnet_mask, Candidate::essential);
  if (asked != nullptr)
    for (auto b : *asked) {
      const auto code = std::to_integer<std::uint8_t>(b);
      take(code, rank_of(code, Candidate::requested));
    }
  // Not asked for: the configured options go anyway (phones that forget to ask
  // for 150 still find their TFTP server); the derived ones only on request.
  for (auto& c : available)
    if (!c.value.empty() && c.code != option::broadcast_address && c.code != option::hostname &&
        !was_asked(c.code))
      chosen.push_back({c.code, std::move(c.value), rank_of(c.code, Candidate::extra)});
  for (auto& c : chosen) reply.options.set(c.code, std::move(c.value));
  // RFC 3046 2.2: the relay agent information is echoed, last.
  if (const auto* agent = request.options.find(option::relay_agent_info))
    reply.options.set(option::relay_agent_info, *agent);

  const auto limit = reply_limit(request);
  for (auto rank : {Candidate::extra, Candidate::requested, Candidate::important}) {
    for (auto it = chosen.rbegin(); it != chosen.rend() && serialized_size(reply) > limit; ++it)
      if (it->rank == rank) reply.options.erase(it->code);
  }
  return serialized_size(reply) <= limit;
}

std::string too_big_reason(const Message& request) {
  const auto* agent = request.options.find(option::relay_agent_info);
  return fmt::format("reply cannot fit in {} bytes beside the {}-byte option 82 to echo",
                     reply_limit(request), agent != nullptr ? agent->size() : 0);
}

Event make_event(std::string name, const MacAddress& mac, Ipv4 address, const Message& request,
                 std::string reason = {}) {
  return Event{std::move(name), mac, address, request.options.text(option::vendor_class).value_or(""),
               request.options.text(option::hostname).value_or(""), std::move(reason)};
}

const Pool* pool_for(const std::vector<const Pool*>& pools, Ipv4 address) {
  for (const Pool* p : pools)
    if (p->network.contains(address)) return p;
  return pools.empty() ? nullptr : pools.front();
}

Outcome ignore(const MacAddress& mac, const Message& request, std::string reason) {
  Outcome out;
  out.events.push_back(make_event("ignore", mac, Ipv4{}, request, std::move(reason)));
  return out;
}

Outcome nak(const Incoming& in, const Config& config, const MacAddress& mac, Ipv4 address,
            std::string reason) {
  Outcome out;
  Message reply = reply_base(in.message, config, MessageType::nak);
  reply.options.set_text(option::message, reason);
  if (const auto* agent = in.message.options.find(option::relay_agent_info))
    reply.options.set(option::relay_agent_info, *agent);
  // RFC 2131 4.3.2: a NAK through a relay asks it to broadcast.
  if (!in.message.giaddr.is_unspecified()) reply.flags |= Message::broadcast_flag;
  out.destination = route_reply(in.message, reply, in.client_port, in.server_port);
  out.reply = std::move(reply);
  out.events.push_back(make_event("nak", mac, address, in.message, std::move(reason)));
  return out;
}

std::string lease_hostname(const Config& config, const Message& request, const MacAddress& mac) {
  if (auto name = request.options.text(option::hostname); name && !name->empty()) return *name;
  if (const auto* r = reservation_of(config, mac)) return r->hostname;
  return {};
}

Outcome on_discover(State& state, const Config& config, const Incoming& in, const MacAddress& mac,
                    UnixTime now) {
  const auto pools = pools_on_link(config, link_address(config, in));
  Outcome out;
  out.events.push_back(make_event("discover", mac, Ipv4{}, in.message));
  if (pools.empty()) {
    out.events.push_back(make_event("ignore", mac, Ipv4{}, in.message, "no pool for this link"));
    return out;
  }
  const auto address = choose_address(state, config, pools, in.message, mac, now);
  if (!address) {
    out.events.push_back(make_event("ignore", mac, Ipv4{}, in.message, "pool exhausted"));
    return out;
  }
  state.offers.put(mac, Offer{*address, now + config.offer_hold});
  Message reply = reply_base(in.message, config, MessageType::offer);
  reply.yiaddr = *address;
  reply.siaddr = config.next_server;
  const auto* r = reservation_of(config, mac);
  if (!add_options(reply, in.message, config, pool_for(pools, *address), config.lease_time,
                   r != nullptr ? r->hostname : std::string())) {
    state.offers.erase(mac);
    out.events.push_back(make_event("ignore", mac, *address, in.message, too_big_reason(in.message)));
    return out;
  }
  out.destination = route_reply(in.message, reply, in.client_port, in.server_port);
  out.reply = std::move(reply);
  out.events.push_back(make_event("offer", mac, *address, in.message));
  return out;
}

Outcome on_request(State& state, const Config& config, const Incoming& in, const MacAddress& mac,
                   UnixTime now) {
  const auto& request = in.message;
  const auto server_id = request.options.ipv4(option::server_id);
  const auto requested = request.options.ipv4(option::requested_address);
  Ipv4 address;
  std::string_view client_state;
  if (server_id) {  // SELECTING, RFC 2131 4.3.2
    if (*server_id != config.server_id) {
      state.offers.erase(mac);
      return ignore(mac, request, fmt::format("client chose server {}", server_id->to_string()));
    }
    if (!requested && request.ciaddr.is_unspecified())
      return nak(in, config, mac, Ipv4{}, "REQUEST in SELECTING state without option 50");
    address = requested ? *requested : request.ciaddr;
    client_state = "selecting";
  } else if (requested && request.ciaddr.is_unspecified()) {
    address = *requested;
    client_state = "init-reboot";
  } else if (!request.ciaddr.is_unspecified()) {
    address = request.ciaddr;
    client_state = in.to_broadcast ? "rebinding" : "renewing";
  } else {
    return ignore(mac, request, "REQUEST names no address (no option 50, no ciaddr)");
  }

  const auto pools = pools_on_link(config, link_address(config, in));
  if (!on_network(pools, address))
    return nak(in, config, mac, address,
               fmt::format("{}: {} is not on this network", client_state, address.to_string()));
  const auto* reserved = reservation_of(config, mac);
  const bool allowed =
      available_to(state, config, address, mac, now) &&
      ((reserved != nullptr && reserved->address == address) ||
       (reserved == nullptr && in_ranges(pools, address)) ||
       (reserved == nullptr && state.leases.find(mac) != nullptr &&
        state.leases.find(mac)->address == address));
  if (!allowed)
    return nak(in, config, mac, address,
               fmt::format("{}: {} is not available to {}", client_state, address.to_string(),
                           mac.to_string()));

  Message reply = reply_base(request, config, MessageType::ack);
  reply.ciaddr = request.ciaddr;
  reply.yiaddr = address;
  reply.siaddr = config.next_server;
  if (!add_options(reply, request, config, pool_for(pools, address), config.lease_time,
                   reserved != nullptr ? reserved->hostname : std::string()))
    return ignore(mac, request, too_big_reason(request));
  Lease lease{mac, address, now + config.lease_time, lease_hostname(config, request, mac),
              request.options.text(option::vendor_class).value_or("")};
  state.leases.put(lease);
  state.offers.erase(mac);
  Outcome out;
  out.persist.push_back(lease);
  out.destination = route_reply(request, reply, in.client_port, in.server_port);
  out.reply = std::move(reply);
  out.events.push_back(make_event("ack", mac, address, request, std::string(client_state)));
  return out;
}

Outcome on_decline(State& state, const Config& config, const Incoming& in, const MacAddress& mac,
                   UnixTime now) {
  const auto& request = in.message;
  if (const auto id = request.options.ipv4(option::server_id); id && *id != config.server_id)
    return ignore(mac, request, "DECLINE for another server");
  const auto address = request.options.ipv4(option::requested_address);
  if (!address) return ignore(mac, request, "DECLINE without option 50");
  const auto* holder = state.leases.holder(*address);
  const auto* offer = state.offers.find(mac);
  const bool ours = (holder != nullptr && holder->mac == mac) ||
                    (offer != nullptr && offer->address == *address);
  if (!ours) return ignore(mac, request, fmt::format("DECLINE of {}, which it does not hold",
                                                     address->to_string()));
  // RFC 2131 4.3.3: the address is in use by someone else; keep it out of
  // the pool for a while and forget the MAC's tie to it.
  state.quarantine[*address] = now + config.decline_quarantine;
  state.offers.erase(mac);
  Outcome out;
  if (holder != nullptr && holder->mac == mac) {
    state.leases.erase(mac);
    out.persist.push_back(Lease{mac, Ipv4{}, 0, {}, {}});  // tombstone: forget this MAC
  }
  out.events.push_back(make_event("decline", mac, *address, request));
  return out;
}

Outcome on_release(State& state, const Config& config, const Incoming& in, const MacAddress& mac,
                   UnixTime now) {
  const auto& request = in.message;
  if (const auto id = request.options.ipv4(option::server_id); id && *id != config.server_id)
    return ignore(mac, request, "RELEASE for another server");
  const auto* lease = state.leases.find(mac);
  if (lease == nullptr || lease->address != request.ciaddr || !lease->active(now))
    return ignore(mac, request,
                  fmt::format("RELEASE of {}, which it does not hold", request.ciaddr.to_string()));
  Lease released = *lease;
  released.expiry = now;  // kept, so the MAC gets the same address next time
  state.leases.put(released);
  Outcome out;
  out.persist.push_back(released);
  out.events.push_back(make_event("release", mac, released.address, request));
  return out;
}

Outcome on_inform(const Config& config, const Incoming& in, const MacAddress& mac) {
  const auto& request = in.message;
  Outcome out;
  const auto pools = pools_on_link(config, link_address(config, in));
  Message reply = reply_base(request, config, MessageType::ack);
  reply.ciaddr = request.ciaddr;  // RFC 2131 4.3.5: no yiaddr, no lease time
  reply.siaddr = config.next_server;
  if (!add_options(reply, request, config, pool_for(pools, request.ciaddr), std::nullopt, {}))
    return ignore(mac, request, too_big_reason(request));
  out.destination = route_reply(request, reply, in.client_port, in.server_port);
  out.reply = std::move(reply);
  out.events.push_back(make_event("inform", mac, request.ciaddr, request));
  return out;
}

}  // namespace

std::string_view to_string(Destination::Kind kind) noexcept {
  switch (kind) {
    case Destination::Kind::relay: return "relay";
    case Destination::Kind::unicast: return "unicast";
    case Destination::Kind::broadcast: return "broadcast";
    case Destination::Kind::link_unicast: return "link-unicast";
  }
  return "?";
}

Destination route_reply(const Message& request, const Message& reply, std::uint16_t client_port,
                        std::uint16_t server_port) {
  Destination d;
  if (!request.giaddr.is_unspecified()) {
    d.kind = Destination::Kind::relay;
    d.to = {request.giaddr, server_port};
    return d;
  }
  d.to = {Ipv4::limited_broadcast(), client_port};
  if (reply.type() == MessageType::nak) return d;  // RFC 2131 4.1: NAKs are broadcast
  if (!request.ciaddr.is_unspecified()) {
    d.kind = Destination::Kind::unicast;
    d.to = {request.ciaddr, client_port};
    return d;
  }
  if (request.wants_broadcast()) return d;
  if (const auto mac = request.mac(); mac && !reply.yiaddr.is_unspecified()) {
    d.kind = Destination::Kind::link_unicast;
    d.to = {reply.yiaddr, client_port};
    d.mac = *mac;
  }
  return d;
}

// ---------------------------------------------------------------- OfferBook

const Offer* OfferBook::find(const MacAddress& mac) const {
  const auto it = by_mac_.find(mac);
  return it == by_mac_.end() ? nullptr : &it->second;
}

const MacAddress* OfferBook::holder(net::Ipv4 address) const {
  const auto it = by_address_.find(address);
  return it == by_address_.end() ? nullptr : &it->second;
}

void OfferBook::put(const MacAddress& mac, const Offer& offer) {
  if (const auto it = by_address_.find(offer.address); it != by_address_.end() && it->second != mac)
    erase(MacAddress(it->second));  // the address moved on to `mac`
  erase(mac);
  by_mac_.emplace(mac, offer);
  by_address_.emplace(offer.address, mac);
  by_expiry_.emplace(offer.until, mac);
  addresses_.insert(offer.address);
}

bool OfferBook::erase(const MacAddress& mac) {
  const auto it = by_mac_.find(mac);
  if (it == by_mac_.end()) return false;
  by_address_.erase(it->second.address);
  by_expiry_.erase({it->second.until, mac});
  addresses_.erase(it->second.address);
  by_mac_.erase(it);
  return true;
}

std::size_t OfferBook::expire(UnixTime now) {
  std::size_t dropped = 0;
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    erase(MacAddress(by_expiry_.begin()->second));
    ++dropped;
  }
  return dropped;
}

void expire(State& state, UnixTime now) {
  state.offers.expire(now);
  std::erase_if(state.quarantine, [now](const auto& entry) { return entry.second <= now; });
}

Outcome handle(State& state, const Config& config, const Incoming& in, UnixTime now) {
  // Offers that ran out are dropped first (cheap: the book is ordered by
  // expiry), so every offer the address search skips is a live one.
  state.offers.expire(now);
  const auto& request = in.message;
  const auto mac = request.mac().value_or(MacAddress{});
  if (request.op != 1) return ignore(mac, request, "not a BOOTREQUEST");
  if (!request.mac()) return ignore(mac, request, "hardware type is not Ethernet (htype 1, hlen 6)");
  const auto type = request.type();
  if (!type) return ignore(mac, request, "no DHCP message type (option 53)");
  if (!config.only_vendor.empty()) {
    const auto vendor = request.options.text(option::vendor_class);
    if (!vendor || !vendor->starts_with(config.only_vendor))
      return ignore(mac, request,
                    fmt::format("option 60 '{}' does not start with --only-vendor '{}'",
                                vendor.value_or(""), config.only_vendor));
  }
  switch (*type) {
    case MessageType::discover: return on_discover(state, config, in, mac, now);
    case MessageType::request: return on_request(state, config, in, mac, now);
    case MessageType::decline: return on_decline(state, config, in, mac, now);
    case MessageType::release: return on_release(state, config, in, mac, now);
    case MessageType::inform: return on_inform(config, in, mac);
    default: return ignore(mac, request, fmt::format("a client does not send {}", to_string(*type)));
  }
}

}  // namespace cf::dhcp
