#pragma once
// Leases and their durable store. On disk a lease is one line of the DESIGN
// contract, `mac ip expiry hostname vendor-class` (expiry in Unix seconds;
// hostname "-" when none; the vendor class is the rest of the line, "-" when
// none; bytes outside printable ASCII, and spaces in the hostname, as \xHH).
// A line with address 0.0.0.0 is a tombstone: forget that MAC (after DECLINE).
//
// The store is a snapshot file (FILE, replaced by write-temp, fsync, rename,
// fsync-dir) plus a journal (FILE.journal) of lines appended since; a later
// line for the same MAC or address wins. append() + sync() make a batch of
// leases durable with one fdatasync, before their ACKs leave; compact() folds
// the journal into a new snapshot.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <vector>

#include "cf/cli/result.hpp"
#include "cf/dhcp/address_set.hpp"
#include "cf/dhcp/message.hpp"
#include "cf/net/fd.hpp"
#include "cf/net/ipv4.hpp"

namespace cf::dhcp {

using UnixTime = std::int64_t;  // seconds since 1970, the lease file's clock

struct Lease {
  MacAddress mac;
  net::Ipv4 address;
  UnixTime expiry = 0;  // a released lease expires at the release time
  std::string hostname;
  std::string vendor_class;
  bool active(UnixTime now) const noexcept { return expiry > now; }
  friend bool operator==(const Lease&, const Lease&) = default;
};

std::string format_lease_line(const Lease& lease);  // without the newline
Result<Lease> parse_lease_line(std::string_view line);

// Every lease the server knows, active or expired: an expired lease still
// remembers which address a MAC had, so it gets the same one back.
class LeaseTable {
 public:
  // Adds or replaces the lease of lease.mac; a lease of another MAC on the
  // same address is dropped (the address moved on). Address 0.0.0.0 erases.
  void put(const Lease& lease);
  void erase(const MacAddress& mac);
  const Lease* find(const MacAddress& mac) const;
  const Lease* holder(net::Ipv4 address) const;  // whichever lease names the address
  const std::map<MacAddress, Lease>& all() const noexcept { return by_mac_; }
  std::size_t size() const noexcept { return by_mac_.size(); }
  // The lowest address in [from, to] that no lease (active or expired) names.
  std::optional<net::Ipv4> first_unleased(net::Ipv4 from, net::Ipv4 to) const {
    return addresses_.first_absent(from, to);
  }
  // Every lease's (expiry, address), oldest first: the lease that ran out
  // longest ago is the first entry, and a table of active leases starts with
  // one whose expiry is in the future, so "nothing to reuse" is O(log n).
  const std::set<std::pair<UnixTime, net::Ipv4>>& by_expiry() const noexcept { return by_expiry_; }

 private:
  void unindex(const Lease& lease);
  std::map<MacAddress, Lease> by_mac_;
  std::unordered_map<net::Ipv4, MacAddress> by_address_;
  AddressSet addresses_;  // the keys of by_address_, as runs
  std::set<std::pair<UnixTime, net::Ipv4>> by_expiry_;
};

struct LoadReport {
  std::size_t leases = 0;             // lines read into the table
  std::vector<std::string> problems;  // "FILE:LINE: reason" for each skipped line
  std::vector<std::string> skipped;   // the skipped lines as they were, same order
};

class LeaseStore {
 public:
  explicit LeaseStore(std::filesystem::path file);
  const std::filesystem::path& file() const noexcept { return file_; }
  std::filesystem::path journal_file() const;

  // Reads the snapshot then the journal into `table`; a corrupt line is
  // reported and skipped. Missing files are an empty store. Throws cf::Error
  // only when a file exists but cannot be read.
  LoadReport load(LeaseTable& table) const;
  // Appends the lines `report` skipped to FILE.bad (each after a "# FILE:LINE:
  // reason" comment) and fsyncs it, so that compact() can replace the files
  // they came from without losing them for good. Throws cf::Error.
  void keep_skipped(const LoadReport& report) const;
  std::filesystem::path bad_file() const;
  // Writes `table` as the new snapshot (atomically) and empties the journal.
  // Throws cf::Error; the old snapshot and journal stay valid on failure.
  void compact(const LeaseTable& table);
  // Queues lines for the journal; nothing is durable until sync().
  void append(const Lease& lease);
  // Writes the queued lines and fdatasyncs the journal once. Throws cf::Error.
  void sync();
  std::size_t pending() const noexcept { return pending_count_; }
  std::size_t journal_lines() const noexcept { return journal_lines_; }

 private:
  void open_journal();
  std::filesystem::path file_;
  net::UniqueFd journal_;
  std::string pending_;
  std::size_t pending_count_ = 0;
  std::size_t journal_lines_ = 0;
};

}  // namespace cf::dhcp
