// The indexes behind the free-address search: AddressSet (runs of
// consecutive addresses, "lowest absent address in a range"), the run index
// inside LeaseTable, and OfferBook (offers by MAC, by address, by expiry).
// Each is checked against a brute-force model on a seeded random sequence of
// operations as well as on the edge cases.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>

#include "cf/dhcp/address_set.hpp"
#include "cf/dhcp/lease.hpp"
#include "cf/dhcp/policy.hpp"

using namespace cf::dhcp;
using cf::net::Ipv4;

namespace {

Ipv4 ip(const char* text) { return *Ipv4::parse(text); }
Ipv4 at(std::uint32_t value) { return Ipv4::from_uint(value); }
MacAddress mac_n(unsigned n) {
  MacAddress m;
  m.octets = {0x02, 0, 0, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
              static_cast<std::uint8_t>(n)};
  return m;
}

std::optional<Ipv4> model_first_absent(const std::set<std::uint32_t>& model, std::uint32_t from,
                                       std::uint32_t to) {
  for (std::uint64_t a = from; a <= to; ++a)
    if (!model.contains(static_cast<std::uint32_t>(a))) return at(static_cast<std::uint32_t>(a));
  return std::nullopt;
}

}  // namespace

TEST_CASE("AddressSet: empty, insert, erase, runs merge and split") {
  AddressSet s;
  CHECK(s.empty());
  CHECK(s.first_absent(ip("10.0.0.1"), ip("10.0.0.9")) == ip("10.0.0.1"));
  CHECK(s.insert(ip("10.0.0.1")));
  CHECK_FALSE(s.insert(ip("10.0.0.1")));
  CHECK(s.insert(ip("10.0.0.3")));
  CHECK(s.runs() == 2);
  CHECK(s.insert(ip("10.0.0.2")));  // joins both neighbours
  CHECK(s.runs() == 1);
  CHECK(s.size() == 3);
  CHECK(s.first_absent(ip("10.0.0.1"), ip("10.0.0.9")) == ip("10.0.0.4"));
  CHECK(s.first_absent(ip("10.0.0.0"), ip("10.0.0.9")) == ip("10.0.0.0"));
  CHECK_FALSE(s.first_absent(ip("10.0.0.1"), ip("10.0.0.3")).has_value());
  CHECK(s.erase(ip("10.0.0.2")));  // splits the run
  CHECK_FALSE(s.erase(ip("10.0.0.2")));
  CHECK(s.runs() == 2);
  CHECK(s.contains(ip("10.0.0.1")));
  CHECK_FALSE(s.contains(ip("10.0.0.2")));
  CHECK(s.contains(ip("10.0.0.3")));
  CHECK(s.first_absent(ip("10.0.0.1"), ip("10.0.0.9")) == ip("10.0.0.2"));
  CHECK_FALSE(s.first_absent(ip("10.0.0.5"), ip("10.0.0.4")).has_value());  // empty range
  CHECK(s.size() == 2);
}

TEST_CASE("AddressSet: the ends of the address space") {
  AddressSet s;
  CHECK(s.insert(at(0xFFFFFFFF)));
  CHECK(s.insert(at(0xFFFFFFFE)));
  CHECK(s.runs() == 1);
  CHECK_FALSE(s.first_absent(at(0xFFFFFFFE), at(0xFFFFFFFF)).has_value());
  CHECK(s.first_absent(at(0xFFFFFFFD), at(0xFFFFFFFF)) == at(0xFFFFFFFD));
  CHECK(s.insert(at(0)));
  CHECK(s.first_absent(at(0), at(5)) == at(1));
  CHECK(s.erase(at(0xFFFFFFFF)));
  CHECK(s.first_absent(at(0xFFFFFFFE), at(0xFFFFFFFF)) == at(0xFFFFFFFF));
}

TEST_CASE("AddressSet agrees with a plain set on a random sequence") {
  std::mt19937 random(42);
  AddressSet s;
  std::set<std::uint32_t> model;
  const std::uint32_t base = 0x0A000000;
  for (int step = 0; step < 20000; ++step) {
    const auto a = base + random() % 200;
    if (random() % 3 != 0) CHECK(s.insert(at(a)) == model.insert(a).second);
    else CHECK(s.erase(at(a)) == (model.erase(a) == 1));
    if (step % 16 == 0) {
      const auto from = base + random() % 220;
      const auto to = from + random() % 60;
      REQUIRE(s.first_absent(at(from), at(to)) == model_first_absent(model, from, to));
      const auto probe = base + random() % 220;
      CHECK(s.contains(at(probe)) == model.contains(probe));
    }
  }
  CHECK(s.size() == model.size());
  // Runs are maximal: as many as there are members whose predecessor is absent.
  std::size_t starts = 0;
  for (auto a : model) starts += model.contains(a - 1) ? 0 : 1;
  CHECK(s.runs() == starts);
}

TEST_CASE("LeaseTable keeps its address index in step with its leases") {
  LeaseTable t;
  const auto first = ip("10.0.0.10"), last = ip("10.0.0.20");
  CHECK(t.first_unleased(first, last) == first);
  t.put({mac_n(1), ip("10.0.0.10"), 100, {}, {}});
  t.put({mac_n(2), ip("10.0.0.11"), 100, {}, {}});
  CHECK(t.first_unleased(first, last) == ip("10.0.0.12"));
  t.put({mac_n(1), ip("10.0.0.15"), 100, {}, {}});  // MAC 1 moves: .10 is free again
  CHECK(t.first_unleased(first, last) == ip("10.0.0.10"));
  t.put({mac_n(3), ip("10.0.0.11"), 100, {}, {}});  // takes .11 from MAC 2
  CHECK(t.find(mac_n(2)) == nullptr);
  CHECK(t.first_unleased(ip("10.0.0.11"), last) == ip("10.0.0.12"));
  t.erase(mac_n(3));
  CHECK(t.first_unleased(ip("10.0.0.11"), last) == ip("10.0.0.11"));
  t.put({mac_n(1), Ipv4{}, 0, {}, {}});  // tombstone
  CHECK(t.first_unleased(ip("10.0.0.15"), last) == ip("10.0.0.15"));
  CHECK(t.size() == 0);
}

TEST_CASE("OfferBook: by MAC, by address, by expiry") {
  OfferBook book;
  CHECK(book.empty());
  book.put(mac_n(1), {ip("10.0.0.10"), 100});
  book.put(mac_n(2), {ip("10.0.0.11"), 50});
  REQUIRE(book.find(mac_n(1)) != nullptr);
  CHECK(book.find(mac_n(1))->address == ip("10.0.0.10"));
  REQUIRE(book.holder(ip("10.0.0.11")) != nullptr);
  CHECK(*book.holder(ip("10.0.0.11")) == mac_n(2));
  CHECK(book.first_unoffered(ip("10.0.0.10"), ip("10.0.0.20")) == ip("10.0.0.12"));

  // A new offer to the same MAC replaces the old one, address and expiry.
  book.put(mac_n(1), {ip("10.0.0.13"), 200});
  CHECK(book.size() == 2);
  CHECK(book.holder(ip("10.0.0.10")) == nullptr);
  CHECK(book.first_unoffered(ip("10.0.0.10"), ip("10.0.0.20")) == ip("10.0.0.10"));
  // Offering MAC 2's address to MAC 3 takes it from MAC 2.
  book.put(mac_n(3), {ip("10.0.0.11"), 150});
  CHECK(book.find(mac_n(2)) == nullptr);
  CHECK(*book.holder(ip("10.0.0.11")) == mac_n(3));

  CHECK(book.expire(149) == 0);
  CHECK(book.expire(150) == 1);  // MAC 3's (until 150); MAC 2's old expiry is gone with it
  CHECK(book.find(mac_n(3)) == nullptr);
  CHECK(book.holder(ip("10.0.0.11")) == nullptr);
  CHECK(book.size() == 1);
  CHECK(book.erase(mac_n(1)));
  CHECK_FALSE(book.erase(mac_n(1)));
  CHECK(book.empty());
  CHECK(book.expire(1000) == 0);
  CHECK(book.first_unoffered(ip("10.0.0.10"), ip("10.0.0.20")) == ip("10.0.0.10"));
}

TEST_CASE("OfferBook agrees with a plain map on a random sequence") {
  std::mt19937 random(7);
  OfferBook book;
  std::map<MacAddress, Offer> model;
  UnixTime now = 0;
  for (int step = 0; step < 5000; ++step) {
    const auto who = mac_n(random() % 40);
    switch (random() % 4) {
      case 0:
      case 1: {
        const Offer offer{at(0x0A000000 + random() % 60), now + 1 + static_cast<UnixTime>(random() % 30)};
        std::erase_if(model, [&](const auto& e) { return e.second.address == offer.address; });
        model[who] = offer;
        book.put(who, offer);
        break;
      }
      case 2: CHECK(book.erase(who) == (model.erase(who) == 1)); break;
      default: {
        now += static_cast<UnixTime>(random() % 5);
        const auto dropped = std::erase_if(model, [&](const auto& e) { return e.second.until <= now; });
        CHECK(book.expire(now) == dropped);
      }
    }
    REQUIRE(book.size() == model.size());
    for (unsigned n = 0; n < 40; ++n) {
      const auto it = model.find(mac_n(n));
      const auto* got = book.find(mac_n(n));
      REQUIRE((got != nullptr) == (it != model.end()));
      if (got != nullptr) {
        CHECK(*got == it->second);
        REQUIRE(book.holder(got->address) != nullptr);
        CHECK(*book.holder(got->address) == mac_n(n));
      }
    }
    std::set<std::uint32_t> offered;
    for (const auto& [m, o] : model) offered.insert(o.address.to_uint());
    CHECK(book.first_unoffered(at(0x0A000000), at(0x0A00003F)) ==
          model_first_absent(offered, 0x0A000000, 0x0A00003F));
  }
}
