#pragma once
// A set of IPv4 addresses kept as maximal runs of consecutive addresses, so
// that "the lowest address in [from, to] that is NOT in the set" is one
// O(log runs) lookup instead of a walk over every member. The lease table and
// the open offers each keep one: a new client's address is then found without
// scanning the pool (RFC 2131 gives no order; ours is "lowest never-used").
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "cf/net/ipv4.hpp"

namespace cf::dhcp {

class AddressSet {
 public:
  // Both return whether the set changed.
  bool insert(net::Ipv4 address);
  bool erase(net::Ipv4 address);
  bool contains(net::Ipv4 address) const;
  // The lowest address a with from <= a <= to and a not in the set.
  std::optional<net::Ipv4> first_absent(net::Ipv4 from, net::Ipv4 to) const;
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t runs() const noexcept { return runs_.size(); }
  void clear() noexcept {
    runs_.clear();
    size_ = 0;
  }

 private:
  // first address of a run -> last address of it (inclusive), host order;
  // runs never touch or overlap (adjacent runs are merged).
  std::map<std::uint32_t, std::uint32_t> runs_;
  std::size_t size_ = 0;
};

}  // namespace cf::dhcp
