#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "cf/cli/error.hpp"
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
    "#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n";

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
      {"r1\t7940-7960\tbanish\tSCCP *\tSIP *\t-\t-\tDESIGN\tsure\tn", "unknown kind"},
      {"r1\t7940-7960\tforbid\tSCCP <5.x\tSIP *\t-\t-\tDESIGN\tsure\tn", "not a version"},
      {"r1\t7999\tforbid\tSCCP *\tSIP *\t-\t-\tDESIGN\tsure\tn", "neither a family nor a model"},
      {"r1\t7940-7960\tforbid\tSCCP ~5.0\tSIP *\t-\t-\tDESIGN\tsure\tn", "not a condition"},
      {"r1\t7940-7960\tforbid\tSCCP =from\tSIP *\t-\t-\tDESIGN\tsure\tn", "only meaningful in the to"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tSCCP >=8.0\t-\tDESIGN\tprobably\tn", "confidence"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tSCCP >=8.0\t-\t-\tsure\tn", "source"},
      {"r1\t7940-7960\tneeds\tSCCP *\tSIP *\t{name}.bin\t-\tDESIGN\tsure\tn", "'-' in the from"},
      {"r1\t7940-7960\tneeds\t-\tSIP *\t{nmae}.bin\t-\tDESIGN\tsure\tn", "unknown placeholder"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tSCCP *\tSCCP41.8-5-2S\tDESIGN\tsure\tn", "not of 7940-7960"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tSCCP >=8.0\tP00305000500\tDESIGN\tsure\tn", "not in the via class"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\tP00308000900\t-\tDESIGN\tsure\tn", "a class of loads"},
      {"r1\t7940-7960\tallow\tSCCP *\tSIP *\tSCCP >=8.0\t-\tDESIGN\tsure\tn", "allow rule"},
      {"r1\t7940-7960\tnever\tSCCP *\tSIP *\t-\tP00308000900\tDESIGN\tsure\tn", "only a forbid rule prefers"},
      {"R 1\t7940-7960\tforbid\tSCCP *\tSIP *\t-\t-\tDESIGN\tsure\tn", "rule id"},
      {"r1\t7940-7960\tforbid\tSCCP *\tSIP *\t-\t-\tDESIGN\tsure", "tab-separated fields"},
      {"r1\t7940-7960\tforbid\tP00308000900 P00305000500\tSIP *\t-\t-\tDESIGN\tsure\tn", "one load name"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    // Two good lines and a comment first, so the bad one is line 5.
    const std::string body =
        "ok-1\t7940-7960\tforbid\tSCCP <5.0\tany >5.0(5)\tSCCP >=5.0 <6.0\tP00305000500\tDESIGN\tsure\tn\n"
        "# a comment\n"
        "ok-2\t7975\tallow\tSCCP *\tSIP =from\t-\t-\tREADME-7962\tuncertain\tn\n" +
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
  CHECK_THROWS_WITH_AS(parse("a\t7975\tallow\tSCCP *\tSIP *\t-\t-\tX\tsure\tn\n"
                             "a\t7975\tallow\tSCCP *\tSIP *\t-\t-\tX\tsure\tn\n"),
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

TEST_CASE("an allow rule lifts a forbid rule but never a never rule; the first matching rules are reported") {
  const auto rules = parse(
      "no-sip\t7940-7960\tforbid\tSCCP <8.0(9)\tSIP *\tSCCP >=8.0 <9.0\tP00308000900\tDESIGN\tsure\tn\n"
      "ual\t7940-7960\tallow\tP00305000500\tSIP >=4.0\t-\t-\tDESIGN\tuncertain\tn\n"
      "signed\t7940-7960\tnever\tSCCP *\tSIP <5.0\t-\t-\tCME-ADMIN\tsure\tn\n");
  const auto mine = rules.for_family("7940-7960");
  const auto blocked = judge_jump(mine, load("P00303010102"), load("P0S3-8-12-00"));
  CHECK_FALSE(blocked.allowed);
  REQUIRE(blocked.forbidden_by != nullptr);
  CHECK(blocked.forbidden_by->id == "no-sip");
  const auto lifted = judge_jump(mine, load("P00305000500"), load("P0S3-8-12-00"));
  CHECK(lifted.allowed);
  REQUIRE(lifted.allowed_by != nullptr);
  CHECK(lifted.allowed_by->id == "ual");
  const auto never = judge_jump(mine, load("P00305000500"), load("P0S3-04-4-00"));
  CHECK_FALSE(never.allowed);
  REQUIRE(never.forbidden_by != nullptr);
  CHECK(never.forbidden_by->id == "signed");
  CHECK(never.allowed_by == nullptr);
  CHECK(rules.for_family("7941-7961").empty());
}

TEST_CASE("a stepping stone is any load of the rule's class, or one it prefers") {
  const auto rules = parse(
      "ual\t7940-7960\tforbid\tSCCP <8.0\tSIP *\tSCCP >=8.0 <9.0\tP00308000900\tDESIGN\tsure\tn\n");
  const auto& rule = rules.rules().front();
  const auto* m7960 = catalog().find_model("7960");
  REQUIRE(m7960 != nullptr);
  for (const char* stone : {"P00308000900", "P0030801SR02", "P00308010200", "P00308000500"})
    CHECK(rule.is_stone(load(stone), *m7960));
  for (const char* other : {"P00305000500", "P0S3-8-12-00", "P00309000100"})
    CHECK_FALSE(rule.is_stone(load(other), *m7960));
  CHECK(rule.preferred(*m7960) == std::vector<std::string>{"P00308000900"});
  CHECK(rule.describe_stones(*m7960) == "a load of the class 'SCCP >=8.0 <9.0' (e.g. P00308000900)");
}

TEST_CASE("fail closed: an empty rules file, or a family no jump rule speaks about, is refused") {
  const auto empty = parse("");
  CHECK_THROWS_AS(empty.require_jump_rules("7940-7960"), cf::Error);
  const auto needs_only = parse("files\t7931\tneeds\t-\tany *\t{name}.loads\t-\tX\tsure\tn\n"
                                "cnu\t7975\tallow\tSCCP *\tSIP =from\t-\t-\tX\tsure\tn\n");
  CHECK_THROWS_WITH_AS(needs_only.require_jump_rules("7931"),
                       doctest::Contains("no rule in the rules speaks about the jumps between 7931"),
                       cf::Error);
  CHECK_NOTHROW(needs_only.require_jump_rules("7975"));
}

TEST_CASE("versions compare with their SR part: the signing-key rules of the 79x1 families") {
  const auto rules = RuleSet::load_default(catalog());
  const auto mine = rules.for_family("7941-7961");
  // 8.5(2)SR1 and later know only the new key: never back below 8.3(3).
  CHECK_FALSE(judge_jump(mine, load("SCCP41.8-5-2SR1S"), load("SCCP41.8-3-2S")).allowed);
  CHECK_FALSE(judge_jump(mine, load("SIP41.9-4-2SR3-1S"), load("SCCP41.8-2-2SR2S")).allowed);
  CHECK(judge_jump(mine, load("SCCP41.8-5-2S"), load("SCCP41.8-3-2S")).allowed);
  // Old-key loads go through 8.5(2) (SR0) before anything later, SR1 included.
  CHECK_FALSE(judge_jump(mine, load("SCCP41.8-3-2S"), load("SCCP41.8-5-2SR1S")).allowed);
  CHECK_FALSE(judge_jump(mine, load("SCCP41.8-4-2S"), load("SCCP41.9-4-2SR3-1S")).allowed);
  CHECK(judge_jump(mine, load("SCCP41.8-4-2S"), load("SCCP41.8-5-2S")).allowed);
  CHECK(judge_jump(mine, load("SCCP41.8-5-2S"), load("SIP41.9-4-2SR3-1S")).allowed);
}

TEST_CASE("via and prefer templates fill in the platform and the load name") {
  const auto rules = RuleSet::load_default(catalog());
  const auto* m7965 = catalog().find_model("7965");
  const auto* m7960 = catalog().find_model("7960");
  REQUIRE(m7965 != nullptr);
  REQUIRE(m7960 != nullptr);
  for (const auto& rule : rules.rules()) {
    if (rule.id == "cnu-833")
      CHECK(rule.preferred(*m7965) == std::vector<std::string>{"SCCP45.8-5-2S", "SIP45.8-5-2S"});
    if (rule.id == "7940-sip-loader")
      CHECK(rule.expand_via(*m7960, "P0S3-8-12-00") ==
            std::vector<std::string>{"P003-8-12-00.bin", "P003-8-12-00.sbn"});
  }
}
