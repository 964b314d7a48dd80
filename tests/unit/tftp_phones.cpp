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
