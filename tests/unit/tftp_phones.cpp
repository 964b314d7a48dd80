// Phone tracking: MACs from request names, phone-config, load-complete and
// loop-suspected.
#include <doctest/doctest.h>

#include "cf/net/event_loop.hpp"
#include "cf/tftp/phones.hpp"

using namespace cf::tftp;
using namespace std::chrono_literals;

TEST_CASE("MACs come from SEP, CTLSEP, ITLSEP and SIP names, upper-cased") {
  CHECK(mac_from_request("SEP001122AABBCC.cnf.xml") == "001122AABBCC");
  CHECK(mac_from_request("/ctlsep001122aabbcc.tlv") == "001122AABBCC");
  CHECK(mac_from_request("ITLSEP001122AABBCC.tlv") == "001122AABBCC");
  CHECK(mac_from_request("SIP001122AABBCC.cnf") == "001122AABBCC");
  CHECK_FALSE(mac_from_request("SEPDefault.cnf"));
  CHECK_FALSE(mac_from_request("SEP001122AABBC.cnf.xml"));
  CHECK_FALSE(mac_from_request("SEP001122AABBCG.cnf.xml"));
  CHECK_FALSE(mac_from_request("XMLDefault.cnf.xml"));
  CHECK(is_quiet_probe("ITLFile.tlv"));
  CHECK(is_quiet_probe("CTLSEP001122AABBCC.tlv"));
  CHECK_FALSE(is_quiet_probe("P0S3-8-12-00.loads"));
  CHECK(is_phone_config("SIP001122AABBCC.cnf"));
  CHECK_FALSE(is_phone_config("CTLSEP001122AABBCC.tlv"));
}

TEST_CASE("phone-config and load-complete once every listed file was sent") {
  cf::net::ManualClock clock;
  PhoneTracker tracker;
  const auto ip = cf::net::Ipv4::from_octets(192, 168, 1, 100);
  tracker.on_request(ip, "CTLSEP001122AABBCC.tlv", clock.now());
  CHECK(tracker.mac_of(ip) == "001122AABBCC");
  auto events = tracker.on_complete(ip, "SEP001122AABBCC.cnf.xml", {}, nullptr);
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "phone-config");
  CHECK(events[0].mac == "001122AABBCC");
  const std::vector<std::string> parts{"jar41.sbn", "cnu41.sbn", "apps41.sbn"};
  CHECK(tracker.on_complete(ip, "apps41.sbn", {}, nullptr).empty());  // before the .loads: remembered
  CHECK(tracker.on_complete(ip, "SCCP41.9-4-2SR3-1S.loads", {}, &parts).empty());
  CHECK(tracker.on_complete(ip, "JAR41.sbn", {}, nullptr).empty());
  events = tracker.on_complete(ip, "cnu41.sbn", {}, nullptr);
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "load-complete");
  CHECK(events[0].load == "SCCP41.9-4-2SR3-1S");
  CHECK(events[0].mac == "001122AABBCC");
  // another phone's transfers do not count for this one
  const auto other = cf::net::Ipv4::from_octets(192, 168, 1, 101);
  CHECK(tracker.on_complete(other, "SCCP41.9-4-2SR3-1S.loads", {}, &parts).empty());
}

TEST_CASE("loop-suspected after N fetches within the window, once per window") {
  cf::net::ManualClock clock;
  PhoneTrackerSettings settings;
  settings.loop_count = 3;
  settings.loop_window = 60s;
  PhoneTracker tracker(settings);
  const auto ip = cf::net::Ipv4::from_octets(10, 0, 0, 5);
  CHECK(tracker.on_request(ip, "term41.default.loads", clock.now()).empty());
  clock.advance(100s);  // outside the window: the count starts again
  CHECK(tracker.on_request(ip, "term41.default.loads", clock.now()).empty());
  clock.advance(10s);
  CHECK(tracker.on_request(ip, "term41.default.loads", clock.now()).empty());
  clock.advance(10s);
  auto events = tracker.on_request(ip, "term41.default.loads", clock.now());
  REQUIRE(events.size() == 1);
  CHECK(events[0].event == "loop-suspected");
  CHECK(events[0].count == 3);
  clock.advance(10s);
  CHECK(tracker.on_request(ip, "term41.default.loads", clock.now()).empty());
}

TEST_CASE("phone-config and load-complete name the version of every file served") {
  PhoneTracker tracker;
  const auto ip = cf::net::Ipv4::from_octets(192, 168, 1, 100);
  const FileIdentity config{120, 1'700'000'000'123'456'789, 11};
  auto events = tracker.on_complete(ip, "SEP001122AABBCC.cnf.xml", config, nullptr);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].identity);
  CHECK(events[0].identity->mtime_ns == config.mtime_ns);
  CHECK(events[0].identity->inode == 11);

  const std::vector<std::string> parts{"jar41.sbn", "cnu41.sbn"};
  // jar41 served twice: the later version is the one reported.
  CHECK(tracker.on_complete(ip, "jar41.sbn", {10, 100, 1}, nullptr).empty());
  CHECK(tracker.on_complete(ip, "JAR41.sbn", {20, 300, 2}, nullptr).empty());
  CHECK(tracker.on_complete(ip, "SCCP41.loads", {5, 200, 3}, &parts).empty());
  events = tracker.on_complete(ip, "cnu41.sbn", {30, 250, 4}, nullptr);
  REQUIRE(events.size() == 1);
  const auto& files = events[0].files;
  REQUIRE(files.size() == 3);
  CHECK(files[0].first == "SCCP41.loads");
  CHECK(files[0].second.inode == 3);
  CHECK(files[1].first == "jar41.sbn");
  CHECK(files[1].second.size == 20);
  CHECK(files[1].second.mtime_ns == 300);
  CHECK(files[2].first == "cnu41.sbn");
  CHECK(files[2].second.mtime_ns == 250);
}

TEST_CASE("the tracker stays bounded under unique names from many spoofed clients") {
  cf::net::ManualClock clock;
  PhoneTrackerSettings settings;
  settings.max_phones = 50;
  settings.max_files_per_phone = 8;
  settings.max_tracked_names = 100;
  settings.max_name_length = 32;
  PhoneTracker tracker(settings);
  // one client, many unique names: capped per phone
  const auto attacker = cf::net::Ipv4::from_octets(10, 9, 9, 9);
  for (int i = 0; i < 1000; ++i) {
    clock.advance(1ms);
    tracker.on_request(attacker, "missing-" + std::to_string(i), clock.now());
  }
  REQUIRE(tracker.phone(attacker));
  CHECK(tracker.phone(attacker)->requests.size() == 8);
  CHECK(tracker.phone(attacker)->requests.contains("missing-999"));  // the newest kept
  // long names are not kept at all
  tracker.on_request(attacker, std::string(10000, 'x'), clock.now());
  CHECK_FALSE(tracker.phone(attacker)->requests.contains(std::string(10000, 'x')));
  // many clients: phones and names over all phones stay within their caps
  for (std::uint32_t i = 0; i < 5000; ++i) {
    clock.advance(1ms);
    const auto ip = cf::net::Ipv4::from_octets(10, 1, static_cast<std::uint8_t>(i >> 8),
                                               static_cast<std::uint8_t>(i));
    tracker.on_request(ip, "a" + std::to_string(i), clock.now());
    tracker.on_request(ip, "b" + std::to_string(i), clock.now());
    tracker.on_request(ip, "c" + std::to_string(i), clock.now());
    CHECK(tracker.phones().size() <= 50);
    CHECK(tracker.tracked_names() <= 100);
  }
  std::size_t names = 0;
  for (const auto& [ip, phone] : tracker.phones()) names += phone.requests.size();
  CHECK(names == tracker.tracked_names());
  // the most recent client survived the evictions of the least recent
  CHECK(tracker.phone(cf::net::Ipv4::from_octets(10, 1, 4999 >> 8, 4999 & 0xFF)));
  CHECK_FALSE(tracker.phone(attacker));
}

TEST_CASE("a phone silent longer than max_idle is forgotten when others arrive") {
  cf::net::ManualClock clock;
  PhoneTrackerSettings settings;
  settings.max_idle = 60s;
  PhoneTracker tracker(settings);
  const auto old = cf::net::Ipv4::from_octets(10, 0, 0, 1);
  tracker.on_request(old, "SEP001122AABBCC.cnf.xml", clock.now());
  clock.advance(30s);
  tracker.on_request(cf::net::Ipv4::from_octets(10, 0, 0, 2), "x", clock.now());
  CHECK(tracker.phone(old));
  clock.advance(31s);  // the first is 61 s idle, the second 31 s
  tracker.on_request(cf::net::Ipv4::from_octets(10, 0, 0, 3), "x", clock.now());
  CHECK_FALSE(tracker.phone(old));
  CHECK(tracker.phones().size() == 2);
}

TEST_CASE("loop detection still works with the bounded request times") {
  cf::net::ManualClock clock;
  PhoneTrackerSettings settings;
  settings.loop_count = 2;
  settings.loop_window = 60s;
  PhoneTracker tracker(settings);
  const auto ip = cf::net::Ipv4::from_octets(10, 0, 0, 5);
  CHECK(tracker.on_request(ip, "a", clock.now()).empty());
  clock.advance(1s);
  CHECK(tracker.on_request(ip, "A", clock.now()).size() == 1);
  for (int i = 0; i < 100; ++i) tracker.on_request(ip, "a", clock.now());
  CHECK(tracker.phone(ip)->requests.at("a").times.size() == 2);
}
