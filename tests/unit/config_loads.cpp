#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <sstream>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/config/load_check.hpp"
#include "cf/config/loads.hpp"

using namespace cf::config;
namespace fs = std::filesystem;

namespace {
const char* kManifest =
    "#load\tprotocol\tfamily\tmodels\tversion\tdir\tfiles\tbytes\n"
    "P00308000900\tSCCP\t7940-7960\t7940,7960\t8.0(9)\t/srv/tftp\t4\t1\n"
    "P0S3-8-12-00\tSIP\t7940-7960\t7940,7960\t8.12(0)\t/srv/tftp\t4\t1\n"
    "SIP41.8-5-2S\tSIP\t7941-7961\t7941,7961\t8.5(2)\t/srv/tftp\t6\t1\n"
    "SIP41.9-4-2SR3-1S\tSIP\t7941-7961\t7941,7961\t9.4(2)SR3\t/srv/tftp\t6\t1\n"
    "term41.default\t-\t7941-7961\t7941\t-\t/srv/tftp\t1\t1\n";
}

TEST_CASE("the newest load of the protocol asked for wins, per family") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  LoadSelection loads(catalog);
  std::istringstream in(kManifest);
  loads.add_manifest(in, "m");
  CHECK_THROWS_WITH_AS(loads.choose(std::nullopt),
                       doctest::Contains("SCCP and SIP loads for the 7940-7960 family"),
                       cf::UsageError);
  auto skipped = loads.choose(cf::firmware::Protocol::sip);
  CHECK(skipped.empty());
  CHECK(loads.for_model("7960")->load.name == "P0S3-8-12-00");
  CHECK(loads.for_model("7961G-GE")->load.name == "SIP41.9-4-2SR3-1S");
  CHECK(loads.for_model("7945") == nullptr);
  skipped = loads.choose(cf::firmware::Protocol::sccp);
  CHECK(loads.for_model("7940")->load.name == "P00308000900");
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].family == "7941-7961");
}

TEST_CASE("--load pins a model or a family and must fit it") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  LoadSelection loads(catalog);
  loads.add_explicit("7940-7960=P0030801SR02");
  loads.add_explicit("7961=SIP41.8-5-2S");
  loads.choose(std::nullopt);
  CHECK(loads.for_model("7940")->load.name == "P0030801SR02");
  CHECK(loads.for_model("7961")->load.name == "SIP41.8-5-2S");
  CHECK(loads.for_model("7941") == nullptr);
  CHECK(loads.chosen_loads().size() == 2);
  CHECK_THROWS_WITH_AS(loads.add_explicit("7960=SIP41.8-5-2S"),
                       doctest::Contains("is a load for the 7941-7961 family; a 7960 is in 7940-7960"),
                       cf::UsageError);
  CHECK_THROWS_AS(loads.add_explicit("7999=SIP41.8-5-2S"), cf::UsageError);
  CHECK_THROWS_AS(loads.add_explicit("7960"), cf::UsageError);
  CHECK_THROWS_AS(loads.add_explicit("7960=P003-8-12-00"), cf::UsageError);  // a loader
}

TEST_CASE("a bad manifest line is refused with its line number") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  LoadSelection loads(catalog);
  std::istringstream in("#load\tprotocol\nNOTALOAD\tSIP\n");
  CHECK_THROWS_WITH(loads.add_manifest(in, "m.tsv"), doctest::Contains("m.tsv:2:"));
  std::istringstream json("{\"load\":\"SIP45.9-4-2SR3-1S\",\"protocol\":\"SCCP\"}\n");
  CHECK_THROWS_WITH(loads.add_manifest(json, "m.jsonl"), doctest::Contains("the manifest says SCCP"));
}

namespace {
struct TempRoot {
  fs::path path;
  TempRoot() {
    path = fs::temp_directory_path() / ("cf-config-loads-" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempRoot() { fs::remove_all(path); }
  void put(const std::string& name, const std::string& bytes) {
    std::ofstream(path / name, std::ios::binary) << bytes;
  }
};
}  // namespace

TEST_CASE("a load is complete when its .loads and every listed component are there") {
  const auto catalog = cf::firmware::ModelCatalog::load_default();
  const auto rules = cf::upgrade::RuleSet::load_default(catalog);
  TempRoot root;
  const auto load = *cf::firmware::parse_load_name("SIP41.9-4-2SR3-1S", catalog);
  auto missing = missing_files(root.path, load, catalog, rules);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].file == "SIP41.9-4-2SR3-1S.loads");
  root.put("SIP41.9-4-2SR3-1S.loads", "apps41.9-4-2ES26.bin\nJar41sip.9-4-2ES26.bin\n");
  root.put("apps41.9-4-2ES26.bin", "x");
  root.put("jar41sip.9-4-2es26.BIN", "");  // case-insensitive match, but empty
  missing = missing_files(root.path, load, catalog, rules);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].file == "Jar41sip.9-4-2ES26.bin");
  CHECK(missing[0].reason == "empty");
  root.put("jar41sip.9-4-2es26.BIN", "x");
  CHECK(missing_files(root.path, load, catalog, rules).empty());

  // A SIP 8.x load of 7940/7960 needs its P003 loader files beside it (data/upgrade-rules).
  const auto sip7960 = *cf::firmware::parse_load_name("P0S3-8-12-00", catalog);
  root.put("P0S3-8-12-00.loads", "P0S3-8-12-00.sb2\n");
  root.put("P0S3-8-12-00.sb2", "x");
  root.put("P003-8-12-00.bin", "x");
  missing = missing_files(root.path, sip7960, catalog, rules);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].file == "P003-8-12-00.sbn");

  root.put("SIP45.9-4-2SR3-1S.loads", "nothing listed here");
  missing = missing_files(root.path, *cf::firmware::parse_load_name("SIP45.9-4-2SR3-1S", catalog),
                          catalog, rules);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].file == "SIP45.9-4-2SR3-1S.loads");
  CHECK_THROWS_AS(missing_files(root.path / "nope", load, catalog, rules), cf::Error);
}
