// The lease line format, the table, and the store (snapshot + journal):
// corrupt lines skipped with their line number, compaction, tombstones.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cf/dhcp/lease.hpp"

using namespace cf::dhcp;
using cf::net::Ipv4;

namespace {

Lease lease(const char* mac, const char* ip, UnixTime expiry, std::string host = {},
            std::string vendor = {}) {
  return Lease{*MacAddress::parse(mac), *Ipv4::parse(ip), expiry, std::move(host), std::move(vendor)};
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cf-dhcp-lease.XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a lease line is the DESIGN contract: mac ip expiry hostname vendor-class") {
  const auto l = lease("00:1B:54:AA:BB:CC", "10.0.0.100", 1700003600, "SEP001B54AABBCC",
                       "Cisco Systems, Inc. IP Phone CP-7960G");
  const auto line = format_lease_line(l);
  CHECK(line ==
        "00:1b:54:aa:bb:cc 10.0.0.100 1700003600 SEP001B54AABBCC Cisco Systems, Inc. IP Phone CP-7960G");
  CHECK(*parse_lease_line(line) == l);
}

TEST_CASE("empty, odd and hostile fields survive the line format") {
  for (const auto& l : {lease("00:00:00:00:00:01", "10.0.0.1", 0),
                        lease("00:00:00:00:00:02", "10.0.0.2", 5, "a b", std::string("x\0y\n", 4)),
                        lease("00:00:00:00:00:03", "10.0.0.3", 5, "-", "-"),
                        lease("00:00:00:00:00:04", "10.0.0.4", 5, "back\\slash", "\xff\x01")}) {
    const auto line = format_lease_line(l);
    CHECK(line.find('\n') == std::string::npos);
    const auto back = parse_lease_line(line);
    REQUIRE_MESSAGE(back.ok(), line);
    CHECK(*back == l);
  }
}

TEST_CASE("bad lease lines are refused with a reason") {
  CHECK_FALSE(parse_lease_line("").ok());
  CHECK_FALSE(parse_lease_line("00:1b:54:aa:bb:cc 10.0.0.1 12").ok());
  CHECK(parse_lease_line("zz 10.0.0.1 12 - -").error().find("MAC") != std::string::npos);
  CHECK(parse_lease_line("00:1b:54:aa:bb:cc 10.0.0 12 - -").error().find("IPv4") != std::string::npos);
  CHECK(parse_lease_line("00:1b:54:aa:bb:cc 10.0.0.1 -5 - -").error().find("expiry") !=
        std::string::npos);
  CHECK_FALSE(parse_lease_line("00:1b:54:aa:bb:cc 10.0.0.1 5 \\x4 -").ok());
  CHECK_FALSE(parse_lease_line("00:1b:54:aa:bb:cc 10.0.0.1 5 - ").ok());
}

TEST_CASE("the table keeps one lease per MAC and per address") {
  LeaseTable t;
  t.put(lease("00:00:00:00:00:01", "10.0.0.1", 10));
  t.put(lease("00:00:00:00:00:01", "10.0.0.2", 10));  // the MAC moved
  CHECK(t.holder(*Ipv4::parse("10.0.0.1")) == nullptr);
  t.put(lease("00:00:00:00:00:02", "10.0.0.2", 20));  // the address moved on
  CHECK(t.find(*MacAddress::parse("00:00:00:00:00:01")) == nullptr);
  CHECK(t.holder(*Ipv4::parse("10.0.0.2"))->expiry == 20);
  t.put(lease("00:00:00:00:00:02", "0.0.0.0", 0));  // tombstone
  CHECK(t.size() == 0);
  CHECK(t.holder(*Ipv4::parse("10.0.0.2")) == nullptr);
}

TEST_CASE("journal lines survive a restart; a corrupt line is reported and skipped") {
  TempDir dir;
  const auto file = dir.path / "leases";
  {
    LeaseStore store(file);
    LeaseTable t;
    CHECK(store.load(t).leases == 0);  // no files yet
    store.append(lease("00:00:00:00:00:01", "10.0.0.1", 100, "a"));
    store.append(lease("00:00:00:00:00:02", "10.0.0.2", 200, "b"));
    CHECK(store.pending() == 2);
    store.sync();
    CHECK(store.pending() == 0);
    CHECK(store.journal_lines() == 2);
  }
  {  // a torn line at the end, as after a crash in the middle of a write
    std::ofstream out(file.string() + ".journal", std::ios::app);
    out << "00:00:00:00:00:03 10.0.0";
  }
  LeaseStore store(file);
  LeaseTable t;
  const auto report = store.load(t);
  CHECK(report.leases == 2);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].find("leases.journal:3:") != std::string::npos);
  CHECK(t.find(*MacAddress::parse("00:00:00:00:00:02"))->hostname == "b");

  store.compact(t);
  CHECK(read(file.string() + ".journal").empty());
  const auto snapshot = read(file);
  CHECK(snapshot.find("00:00:00:00:00:01 10.0.0.1 100 a -\n") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(file.string() + ".tmp"));

  // Later journal lines win over the snapshot
  store.append(lease("00:00:00:00:00:01", "10.0.0.1", 999, "a"));
  store.append(lease("00:00:00:00:00:02", "0.0.0.0", 0));
  store.sync();
  LeaseTable again;
  CHECK(LeaseStore(file).load(again).problems.empty());
  CHECK(again.size() == 1);
  CHECK(again.find(*MacAddress::parse("00:00:00:00:00:01"))->expiry == 999);
}

TEST_CASE("a corrupt line in the snapshot names its line; the rest loads") {
  TempDir dir;
  const auto file = dir.path / "leases";
  {
    std::ofstream out(file);
    out << "# header\n00:00:00:00:00:01 10.0.0.1 100 - -\ngarbage here\n00:00:00:00:00:02 10.0.0.2 5 - -\n";
  }
  LeaseTable t;
  const auto report = LeaseStore(file).load(t);
  CHECK(report.leases == 2);
  REQUIRE(report.problems.size() == 1);
  CHECK(report.problems[0].find("leases:3:") != std::string::npos);
}

TEST_CASE("unreadable lines are kept in FILE.bad before compaction replaces their file") {
  TempDir dir;
  const auto file = dir.path / "leases";
  {
    std::ofstream out(file);
    out << "00:00:00:00:00:01 10.0.0.1 100 - -\n00:00:00:00:00:02 10.0.0.X 5 - -\n";
    std::ofstream journal(file.string() + ".journal");
    journal << "00:00:00:00:00:03 10.0.0.3 7 host\x1b[2J -\nbad\x1b]0;title\x07 line\n";
  }
  LeaseStore store(file);
  LeaseTable t;
  const auto report = store.load(t);
  REQUIRE(report.skipped.size() == 2);
  store.keep_skipped(report);
  store.compact(t);
  const auto bad = read(store.bad_file());
  CHECK(bad.find("00:00:00:00:00:02 10.0.0.X 5 - -\n") != std::string::npos);  // as it was
  CHECK(bad.find("bad\x1b]0;title\x07 line\n") != std::string::npos);
  CHECK(bad.find("# " + file.string() + ":2:") != std::string::npos);
  CHECK(bad.find("leases.journal:2:") != std::string::npos);
  CHECK(read(file).find("10.0.0.X") == std::string::npos);  // the snapshot has only good leases
  // A second start with more garbage appends; nothing kept before is lost.
  { std::ofstream(file.string() + ".journal", std::ios::app) << "again garbage\n"; }
  LeaseTable t2;
  const auto second = store.load(t2);
  store.keep_skipped(second);
  const auto after = read(store.bad_file());
  CHECK(after.starts_with(bad));
  CHECK(after.find("again garbage\n") != std::string::npos);
}
