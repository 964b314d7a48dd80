#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "cf/cli/records.hpp"
#include "cf/upgrade/rules.hpp"

using namespace cf::upgrade;
using cf::firmware::ModelCatalog;

namespace {

const ModelCatalog& catalog() {
  static const ModelCatalog instance = ModelCatalog::load_default();
  return instance;
}

const char* kHeader =
    "#rule\tfamilies\tkind\tfrom\tto\tvia\tsource\tconfidence\tnote\n";

RuleSet parse(const std::string& body) {
  std::istringstream in(std::string(kHeader) + body);
  return RuleSet::parse(in, "test-rules", catalog());
}

LoadName load(std::string_view name) {
  auto parsed = cf::firmware::parse_load_name(name, catalog());
  INFO(parsed.error());
  REQUIRE(parsed.ok());
  return parsed.value();
}

}  // namespace

TEST_CASE("the shipped rules parse, each with a source, covering the families of the issue") {
  const auto rules = RuleSet::load_default(catalog());
  CHECK(rules.rules().size() >= 10);
  for (const auto& rule : rules.rules()) {
    CAPTURE(rule.id);
    CHECK_FALSE(rule.source.empty());
    CHECK_FALSE(rule.note.empty());
  }
  for (const char* family : {"7940-7960", "7941-7961", "7942-7962", "7945-7965", "7970-7971",
                             "7911-7906", "7975"}) {
    CAPTURE(family);
    const auto mine = rules.for_family(family);
    CHECK(std::any_of(mine.begin(), mine.end(), [](const Rule* r) { return r->kind == RuleKind::forbid; }));
  }
}

TEST_CASE("a malformed rules line is reported with its file and line number") {
  struct Bad {
    const char* line;
    const char* reason;
  };
  const Bad cases[] = {
      {"r1\t7940-7960\tbanish\tSCCP *\tSIP *\t-\tDESIGN\tsure\tn", "unknown kind"},
      {"r1\t7940-7960\tforbid\tSCCP <5.x\tSIP *\t-\tDESIGN\tsure\tn", "not a version"},
      {"r1\t7999\tforbid\tSCCP *\tSIP *\t-\tDESIGN\tsure\tn", "neither a family nor a model"},
      {"r1\t7940-7960\tforbid\tSCCP ~5.0\tSIP *\t-\tDESIGN\tsure\tn", "not a condition"},
      {"r1\t7940-7960\tforbid\tSCCP =from\tSIP *\t-\tDESIGN\tsure\tn", "only meaningful in the to"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tP00308000900\tDESIGN\tprobably\tn", "confidence"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tP00308000900\t-\tsure\tn", "source"},
      {"r1\t7940-7960\tneeds\tSCCP *\tSIP *\t{name}.bin\tDESIGN\tsure\tn", "'-' in the from"},
      {"r1\t7940-7960\tneeds\t-\tSIP *\t{nmae}.bin\tDESIGN\tsure\tn", "unknown placeholder"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tSCCP41.8-5-2S\tDESIGN\tsure\tn", "not of 7940-7960"},
      {"r1\t7940-7960\tallow\tSCCP *\tSIP *\tP00308000900\tDESIGN\tsure\tn", "allow rule"},
      {"R 1\t7940-7960\tforbid\tSCCP *\tSIP *\t-\tDESIGN\tsure\tn", "rule id"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\t-\tDESIGN\tsure", "tab-separated fields"},
      {"r1\t7940-7960\tforbid\tP00308000900 P00305000500\tSIP *\t-\tDESIGN\tsure\tn", "one load name"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    // Two good lines and a comment first, so the bad one is line 5.
    const std::string body =
        "ok-1\t7940-7960\tforbid\tSCCP <5.0\tany >5.0(5)\tP00305000500\tDESIGN\tsure\tn\n"
        "# a comment\n"
        "ok-2\t7975\tallow\tSCCP *\tSIP =from\t-\tREADME-7962\tuncertain\tn\n" +
        std::string(c.line) + "\n";
    try {
      parse(body);
      FAIL("no error for a malformed line");
    } catch (const cf::cli::RecordError& e) {
      CHECK(e.line == 5);
      CHECK(std::string(e.what()).starts_with("test-rules:5: "));
      CHECK(std::string(e.what()).find(c.reason) != std::string::npos);
    }
  }
  CHECK_THROWS_WITH_AS(parse("a\t7975\tallow\tSCCP *\tSIP *\t-\tX\tsure\tn\n"
                             "a\t7975\tallow\tSCCP *\tSIP *\t-\tX\tsure\tn\n"),
                       "test-rules:3: rule id 'a' is used twice", cf::cli::RecordError);
}

TEST_CASE("selectors match by protocol and version conditions, or by name") {
  auto s = parse_selector("SCCP <5.0", false, catalog());
  REQUIRE(s.ok());
  CHECK(s->matches(load("P00303010102")));
  CHECK_FALSE(s->matches(load("P00305000500")));
  CHECK_FALSE(s->matches(load("P0S3-04-1-00")));

  auto range = parse_selector("any >=8.3(3) <=8.5(2)", false, catalog());
  REQUIRE(range.ok());
  CHECK(range->matches(load("SIP41.8-3-3S")));
  CHECK(range->matches(load("SCCP41.8-5-2S")));
  CHECK_FALSE(range->matches(load("SCCP41.9-4-2S")));
  CHECK_FALSE(range->matches(load("SCCP41.8-3-1S")));

  auto same = parse_selector("SIP =from", true, catalog());
  REQUIRE(same.ok());
  const auto from = load("SCCP41.9-4-2SR3-1S");
  CHECK(same->matches(load("SIP41.9-4-2SR3-1S"), &from));
  CHECK_FALSE(same->matches(load("SIP41.9-4-2SR4-3S"), &from));
  CHECK_FALSE(same->matches(load("SIP41.9-4-2SR3-1S")));  // no from, no match

  auto named = parse_selector("P00308000900", false, catalog());
  REQUIRE(named.ok());
  CHECK(named->matches(load("P00308000900")));
  CHECK_FALSE(named->matches(load("P00308010200")));
  CHECK_FALSE(parse_selector("P003-8-12-00", false, catalog()).ok());  // a loader, not a load
}

TEST_CASE("an allow rule lifts a forbid rule; the first matching rules are reported") {
  const auto rules = parse(
      "no-sip\t7940-7960\tforbid\tSCCP <8.0(9)\tSIP *\tP00308000900\tDESIGN\tsure\tn\n"
      "ual\t7940-7960\tallow\tP00305000500\tSIP >=8.0\t-\tDESIGN\tuncertain\tn\n");
  const auto mine = rules.for_family("7940-7960");
  const auto blocked = judge_jump(mine, load("P00303010102"), load("P0S3-8-12-00"));
  CHECK_FALSE(blocked.allowed);
  REQUIRE(blocked.forbidden_by != nullptr);
  CHECK(blocked.forbidden_by->id == "no-sip");
  const auto lifted = judge_jump(mine, load("P00305000500"), load("P0S3-8-12-00"));
  CHECK(lifted.allowed);
  REQUIRE(lifted.allowed_by != nullptr);
  CHECK(lifted.allowed_by->id == "ual");
  CHECK(judge_jump(mine, load("P00305000500"), load("P0S3-07-4-00")).allowed == false);
  CHECK(rules.for_family("7941-7961").empty());
}

TEST_CASE("via templates fill in the platform and the load name") {
  const auto rules = RuleSet::load_default(catalog());
  const auto* m7965 = catalog().find_model("7965");
  const auto* m7960 = catalog().find_model("7960");
  REQUIRE(m7965 != nullptr);
  REQUIRE(m7960 != nullptr);
  for (const auto& rule : rules.rules()) {
    if (rule.id == "cnu-833")
      CHECK(rule.expand_via(*m7965, "") == std::vector<std::string>{"SCCP45.8-5-2S", "SIP45.8-5-2S"});
    if (rule.id == "7940-sip-loader")
      CHECK(rule.expand_via(*m7960, "P0S3-8-12-00") ==
            std::vector<std::string>{"P003-8-12-00.bin", "P003-8-12-00.sbn"});
  }
}
