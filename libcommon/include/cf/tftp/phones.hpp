#pragma once
// Phone tracking for cisco-tftpd's --events: a phone is a MAC, learned from
// the names it requests (SEP<MAC>.cnf.xml, CTLSEP<MAC>.tlv, ITLSEP<MAC>.tlv,
// SIP<MAC>.cnf; reference cisco-79xx.md section 3) and tied to the client IP
// that asked. Pure bookkeeping: requests and finished transfers in, the
// phone-level events they cause out (phone-config, load-complete,
// loop-suspected). Names are compared ignoring case, as the server serves them.
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cf/net/ipv4.hpp"
#include "cf/tftp/resolver.hpp"
#include "cf/tftp/transfer.hpp"

namespace cf::firmware {
class ModelCatalog;
}

namespace cf::tftp {

// "SEP0011223344AA.cnf.xml" -> "0011223344AA" (upper case); nullopt if the
// name carries no MAC.
std::optional<std::string> mac_from_request(std::string_view file);

// Files phones probe for that usually do not exist (CTLSEP<MAC>.tlv,
// ITLSEP<MAC>.tlv, ITLFile.tlv, SEP<MAC>.cnf.xml, SIP<MAC>.cnf): a miss is
// logged quietly, not as an error.
bool is_quiet_probe(std::string_view file);

// The phone's own configuration file: SEP<MAC>.cnf.xml or SIP<MAC>.cnf.
bool is_phone_config(std::string_view file);

struct PhoneEvent {
  std::string event;  // "phone-config", "load-complete", "loop-suspected"
  std::string mac;    // empty when not learned yet (loop-suspected only)
  std::string model;  // firmware family of the loads it fetched, where known
  std::string file;   // the config, the .loads, or the looping file
  std::string load;   // load-complete: the load name
  unsigned count = 0; // loop-suspected: fetches within the window
  // phone-config: the version of the config served.
  std::optional<FileIdentity> identity;
  // load-complete: the .loads and every file it names, as last served to
  // this phone (base name as listed, version).
  std::vector<std::pair<std::string, FileIdentity>> files;
};

// Everything the tracker keeps is bounded, because request names and source
// addresses come from anyone on the segment (issue 13 item 1). Worst case,
// with the defaults: max_tracked_names x (max_name_length + ~150 bytes of
// node and times) = 65536 x ~280 B = ~18 MB for names, plus max_phones x
// ~300 B; completed files and pending loads only grow by complete transfers
// of files that exist in the roots, and are capped per phone as well.
struct PhoneTrackerSettings {
  unsigned loop_count = 5;  // this many fetches of one file ...
  Duration loop_window = std::chrono::minutes(10);  // ... within this time
  std::size_t max_phones = 4096;          // least recently seen forgotten first
  std::size_t max_files_per_phone = 64;   // names tracked per phone (each map)
  std::size_t max_tracked_names = 65536;  // request names over all phones
  std::size_t max_name_length = 128;      // longer names are not tracked
  std::size_t max_pending_loads = 8;      // per phone
  Duration max_idle = std::chrono::hours(2);  // a phone silent this long is forgotten
};

struct CompletedFile {
  unsigned count = 0;     // complete transfers
  FileIdentity identity;  // the version the latest one served
};

struct PendingLoad {
  std::vector<std::string> components;  // as the .loads lists them
  std::set<std::string> missing;        // lower case, not yet sent
};

struct RecentRequests {
  std::vector<TimePoint> times;  // at most loop_count, oldest first
  std::optional<TimePoint> loop_reported;
};

struct PhoneState {
  std::string mac;
  std::string model;
  std::map<std::string, CompletedFile> completed;  // file (lower case) -> what was sent
  std::map<std::string, PendingLoad> pending_loads;  // load -> files not yet sent
  std::map<std::string, RecentRequests> requests;    // file (lower case) -> recent requests
  TimePoint last_seen{};
  std::list<net::Ipv4>::iterator recency;  // the tracker's bookkeeping
};

class PhoneTracker {
 public:
  explicit PhoneTracker(PhoneTrackerSettings settings = {},
                        const firmware::ModelCatalog* catalog = nullptr)
      : settings_(settings), catalog_(catalog) {}

  std::vector<PhoneEvent> on_request(net::Ipv4 client, std::string_view file, TimePoint now);
  // A transfer of `file` (version `identity`) to `client` finished with every
  // byte acknowledged. For a .loads file, `components` are the names it lists.
  std::vector<PhoneEvent> on_complete(net::Ipv4 client, std::string_view file,
                                      const FileIdentity& identity,
                                      const std::vector<std::string>* components);

  const PhoneState* phone(net::Ipv4 client) const;
  std::string mac_of(net::Ipv4 client) const;
  const std::unordered_map<net::Ipv4, PhoneState>& phones() const noexcept { return phones_; }
  std::size_t tracked_names() const noexcept { return tracked_names_; }

 private:
  PhoneState* state_for(net::Ipv4 client, TimePoint now);
  void forget(net::Ipv4 client);
  void forget_oldest_name(PhoneState& state);
  PhoneTrackerSettings settings_;
  const firmware::ModelCatalog* catalog_;
  std::unordered_map<net::Ipv4, PhoneState> phones_;
  std::list<net::Ipv4> recency_;  // most recently seen first
  std::size_t tracked_names_ = 0;
  TimePoint latest_{};
};

}  // namespace cf::tftp
