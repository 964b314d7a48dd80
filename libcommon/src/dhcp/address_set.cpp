#include "cf/dhcp/address_set.hpp"

#include <iterator>

namespace cf::dhcp {

bool AddressSet::contains(net::Ipv4 address) const {
  const auto a = address.to_uint();
  auto it = runs_.upper_bound(a);
  if (it == runs_.begin()) return false;
  --it;
  return a <= it->second;
}

bool AddressSet::insert(net::Ipv4 address) {
  const auto a = address.to_uint();
  auto after = runs_.upper_bound(a);  // first run starting above a
  auto before = after == runs_.begin() ? runs_.end() : std::prev(after);
  if (before != runs_.end() && a <= before->second) return false;  // already in
  const bool joins_before = before != runs_.end() && before->second + 1 == a;
  const bool joins_after = after != runs_.end() && a != UINT32_MAX && after->first == a + 1;
  if (joins_before && joins_after) {
    before->second = after->second;
    runs_.erase(after);
  } else if (joins_before) {
    before->second = a;
  } else if (joins_after) {
    const auto last = after->second;
    runs_.erase(after);
    runs_.emplace(a, last);
  } else {
    runs_.emplace(a, a);
  }
  ++size_;
  return true;
}

bool AddressSet::erase(net::Ipv4 address) {
  const auto a = address.to_uint();
  auto it = runs_.upper_bound(a);
  if (it == runs_.begin()) return false;
  --it;
  const auto first = it->first, last = it->second;
  if (a > last) return false;
  runs_.erase(it);
  if (first < a) runs_.emplace(first, a - 1);
  if (a < last) runs_.emplace(a + 1, last);
  --size_;
  return true;
}

std::optional<net::Ipv4> AddressSet::first_absent(net::Ipv4 from, net::Ipv4 to) const {
  auto a = from.to_uint();
  const auto end = to.to_uint();
  if (a > end) return std::nullopt;
  auto it = runs_.upper_bound(a);
  if (it != runs_.begin()) {
    --it;
    if (a <= it->second) {  // inside a run: the address after it is absent
      if (it->second >= end) return std::nullopt;
      a = it->second + 1;
    }
  }
  return net::Ipv4::from_uint(a);
}

}  // namespace cf::dhcp
