#include <doctest/doctest.h>

#include "cf/firmware/load_name.hpp"

using namespace cf::firmware;

namespace {

const ModelCatalog& catalog() {
  static const ModelCatalog instance = ModelCatalog::load_default();
  return instance;
}

LoadName parsed(std::string_view name) {
  auto result = parse_load_name(name, catalog());
  INFO(result.error());
  REQUIRE(result.ok());
  return result.value();
}

struct Expected {
  const char* name;
  const char* family;
  Protocol protocol;
  const char* platform;
  LoadKind kind;
  const char* version;
};

}  // namespace

TEST_CASE("every family's load names parse into family, protocol, platform and version") {
  const Expected cases[] = {
      {"P00308000900", "7940-7960", Protocol::sccp, "03", LoadKind::application, "8.0(9)"},
      {"P00303010102", "7940-7960", Protocol::sccp, "03", LoadKind::application, "3.1(1.2)"},
      {"P0030801SR02", "7940-7960", Protocol::sccp, "03", LoadKind::application, "8.1SR2"},
      {"P0S3-8-12-00", "7940-7960", Protocol::sip, "03", LoadKind::application, "8.12(0)"},
      {"P0S3-08-4-00", "7940-7960", Protocol::sip, "03", LoadKind::application, "8.4(0)"},
      {"P003-8-12-00", "7940-7960", Protocol::sip, "03", LoadKind::loader, "8.12(0)"},
      {"P0M3-07-4-00", "7940-7960", Protocol::mgcp, "03", LoadKind::application, "7.4(0)"},
      {"P0S30203", "7940-7960", Protocol::sip, "03", LoadKind::application, "2.3(0)"},
      {"SCCP41.9-4-2SR3-1S", "7941-7961", Protocol::sccp, "41", LoadKind::application, "9.4(2)SR3"},
      {"SIP45.9-4-2SR3-1S", "7945-7965", Protocol::sip, "45", LoadKind::application, "9.4(2)SR3"},
      {"SIP41.8-3-1S", "7941-7961", Protocol::sip, "41", LoadKind::application, "8.3(1)"},
      {"SCCP70.8-2-2SR2S", "7970-7971", Protocol::sccp, "70", LoadKind::application, "8.2(2)SR2"},
      {"SCCP11.9-0-2SR1S", "7911-7906", Protocol::sccp, "11", LoadKind::application, "9.0(2)SR1"},
      {"SCCP75.8-5-2S", "7975", Protocol::sccp, "75", LoadKind::application, "8.5(2)"},
      {"TERM41.7-0-3-05", "7941-7961", Protocol::sccp, "41", LoadKind::application, "7.0(3.5)"},
      {"term41.default.loads", "7941-7961", Protocol::none, "41", LoadKind::recovery, ""},
      {"term06.default", "7911-7906", Protocol::none, "11", LoadKind::recovery, ""},
      {"CP7912080004SCCP080108A", "7912", Protocol::sccp, "7912", LoadKind::application, "8.0(4)"},
      {"SIP42.9-4-2SR3-1S.loads", "7942-7962", Protocol::sip, "42", LoadKind::application, "9.4(2)SR3"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto load = parsed(c.name);
    CHECK(load.family == c.family);
    CHECK(load.protocol == c.protocol);
    CHECK(load.platform == c.platform);
    CHECK(load.kind == c.kind);
    CHECK(load.version.text == c.version);
  }
  CHECK(parsed("SIP42.9-4-2SR3-1S.loads").name == "SIP42.9-4-2SR3-1S");
}

TEST_CASE("versions order the way the upgrade rules need") {
  const auto v = [](std::string_view name) { return parsed(name).version; };
  CHECK(v("P00303010102") < v("P00305000500"));
  CHECK(v("P00305000500") < v("P00308000900"));
  CHECK(v("P00308000900") < v("P00308010200"));
  CHECK(v("P00308010200") < v("P0030801SR02"));  // an SR comes after its release
  CHECK(v("SCCP41.8-3-3S") < v("SCCP41.8-5-2S"));
  CHECK(v("SCCP41.8-5-2S") < v("SCCP41.9-4-2S"));
  CHECK(v("SCCP41.9-4-2S") < v("SCCP41.9-4-2SR3-1S"));
  CHECK(v("SCCP41.9-4-2SR3-1S") < v("SCCP41.9-4-2SR4-3S"));
  CHECK(v("SCCP41.9-4-2SR3-1S") == v("SIP41.9-4-2SR3-1S"));
  CHECK(v("SIP41.8-3-1S") < v("SIP41.8-3-3S"));
}

TEST_CASE("versions written by people parse and compare with load versions") {
  const auto version = [](std::string_view text) {
    auto result = parse_version(text);
    INFO(result.error());
    REQUIRE(result.ok());
    return result.value();
  };
  CHECK(version("8.5(2)") == parsed("SCCP41.8-5-2S").version);
  CHECK(version("9.4(2)SR3") < parsed("SCCP41.9-4-2SR3-1S").version);  // build 1 > none
  CHECK(version("8.3(3)") < version("8.5(2)"));
  CHECK(version("5.0") < version("5.0(5)"));
  CHECK(version("8.0(9)") == parsed("P00308000900").version);
  CHECK(version("8.12(0)") == parsed("P0S3-8-12-00").version);
  CHECK(version("8.1SR2") == parsed("P0030801SR02").version);
  CHECK(version("9.4(2.1)").text == "9.4(2.1)");
  for (const char* bad : {"", "9", "9.", ".4", "9.4(", "9.4(2", "9.4(x)", "9.4(2)XR3", "9.4(2)SR",
                          "9.4(1.2.3)", "a.b"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_version(bad).ok());
  }
}

TEST_CASE("malformed and unknown names are refused with a reason, never guessed") {
  const char* bad_names[] = {
      "",                          // empty
      "P00308",                    // too short
      "P0X3-8-12-00",              // unknown protocol character
      "P003080009",                // wrong digit count
      "P0S308000900",              // SIP is written with dashes
      "P0S3-8-12",                 // missing build
      "P0S3-8-x-00",               // not numbers
      "SCCP99.9-4-2S",             // platform not in the catalog
      "SCCP4.9-4-2S",              // one-digit platform
      "SCCP41-9-4-2S",             // no dot
      "SCCP41.9-4S",               // too few parts
      "SCCP41.9-4-2-1-1S",         // too many parts
      "SCCP41.9-4-2XR3-1S",        // unknown qualifier
      "SIP41.9-4-2SR3-1-2S",       // too much after SR
      "term99.default.loads",      // no such model
      "apps41.9-4-2ES26.sbn",      // a component file, not a load
      "CP7912080004XYZ080108A",    // unknown protocol
      "CP9999080004SCCP080108A",   // unknown model
      "../SCCP41.9-4-2S",          // path characters
      "SCCP41.9-4-2S\n",           // control character
      "firmware.zip",              // anything else
  };
  for (const char* name : bad_names) {
    CAPTURE(name);
    const auto result = parse_load_name(name, catalog());
    CHECK_FALSE(result.ok());
    CHECK_FALSE(result.error().empty());
  }
  CHECK(parse_load_name("SCCP99.9-4-2S", catalog()).error().find("platform code 99") !=
        std::string::npos);
  CHECK(parse_load_name(std::string(200, 'P'), catalog()).error().find("80 characters") !=
        std::string::npos);
}

TEST_CASE("protocol names") {
  CHECK(parse_protocol("sip").value() == Protocol::sip);
  CHECK(parse_protocol("SCCP").value() == Protocol::sccp);
  CHECK_FALSE(parse_protocol("h323").ok());
  CHECK(to_string(Protocol::sip) == "SIP");
}
