// choose_reset_load: the load a model's termNN.default.loads should name for a
// fleet, judged by the planner's routes and edge check under data/upgrade-rules
// (and, where the shipped rules allow what a stricter reading forbids, under a
// copy of them with one more rule).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "cf/cli/data_dir.hpp"
#include "cf/cli/error.hpp"
#include "cf/upgrade/planner.hpp"
#include "cf/upgrade/reset_load.hpp"
#include "cf/upgrade/rules.hpp"
#include "upgrade_fixtures.hpp"

using namespace cf::upgrade;
using namespace cf::upgrade::test;
using cf::firmware::Protocol;

namespace {

ResetRequest fleet(const std::vector<std::string>& from, const std::string& target,
                   const std::vector<std::string>& root) {
  ResetRequest request;
  request.model = catalog().find_model("7961");
  for (const auto& name : from)
    request.from.push_back(name == "unknown" ? unknown_load("7941-7961", Protocol::sccp) : load(name));
  request.target = load(target);
  for (const auto& name : root) request.known.push_back(load(name));
  return request;
}

const std::vector<std::string> kRoot{"SCCP41.8-5-2S", "SIP41.8-5-2S", "SIP41.9-4-2SR3-1S"};
constexpr const char* kTarget = "SIP41.9-4-2SR3-1S";

}  // namespace

TEST_CASE("a phone below 8.3(3) holds the term file at 8.5(2); once all are there, the target") {
  const auto mixed = choose_reset_load(rules(), fleet({"SCCP41.8-2-2SR2S", "SCCP41.8-5-2S"}, kTarget, kRoot), catalog());
  REQUIRE(mixed.load.has_value());
  CHECK(mixed.load->version.text == "8.5(2)");
  CHECK(mixed.load->name == "SCCP41.8-5-2S");  // the old phone's route keeps SCCP up to the stone
  CHECK(mixed.why.find("one step for SCCP41.8-2-2SR2S") != std::string::npos);
  CHECK(mixed.why.find("already on it: SCCP41.8-5-2S") != std::string::npos);
  CHECK(mixed.why.find("not SIP41.9-4-2SR3-1S: rule cnu-833 forbids the jump from SCCP41.8-2-2SR2S") !=
        std::string::npos);

  const auto there = choose_reset_load(rules(), fleet({"SCCP41.8-5-2S", "SIP41.8-5-2S"}, kTarget, kRoot), catalog());
  REQUIRE(there.load.has_value());
  CHECK(there.load->name == kTarget);
  CHECK(there.why == "one step for SCCP41.8-5-2S, SIP41.8-5-2S; the target");

  const auto done = choose_reset_load(rules(), fleet({kTarget}, kTarget, kRoot), catalog());
  REQUIRE(done.load.has_value());
  CHECK(done.load->name == kTarget);
  CHECK(done.why == "already on it: SIP41.9-4-2SR3-1S; the target");

  // A phone nobody knows counts as one below every rule: the stone again.
  const auto unknown = choose_reset_load(rules(), fleet({"unknown", kTarget}, kTarget, kRoot), catalog());
  REQUIRE(unknown.load.has_value());
  CHECK(unknown.load->version.text == "8.5(2)");
  CHECK(unknown.why.find("one step for unknown, SIP41.9-4-2SR3-1S") != std::string::npos);
}

TEST_CASE("of two loads of one version on the routes, the target's protocol") {
  const auto sip = choose_reset_load(rules(), fleet({"SCCP41.8-2-2S", "SIP41.8-2-2S"}, kTarget, kRoot), catalog());
  REQUIRE(sip.load.has_value());
  CHECK(sip.load->name == "SIP41.8-5-2S");
  const auto sccp =
      choose_reset_load(rules(), fleet({"SCCP41.8-2-2S", "SIP41.8-2-2S"}, "SCCP41.9-4-2SR3-1S",
                                       {"SCCP41.8-5-2S", "SIP41.8-5-2S", "SCCP41.9-4-2SR3-1S"}), catalog());
  REQUIRE(sccp.load.has_value());
  CHECK(sccp.load->name == "SCCP41.8-5-2S");
}

TEST_CASE("only loads on a route count, and only those the root holds") {
  // 9.3(4) lies on no route from these phones: never named, though newer than 8.5(2).
  auto root = kRoot;
  root.push_back("SIP41.9-3-4S");
  const auto choice = choose_reset_load(rules(), fleet({"SCCP41.8-2-2SR2S"}, kTarget, root), catalog());
  REQUIRE(choice.load.has_value());
  CHECK(choice.load->version.text == "8.5(2)");
  // A root without 8.5(2): the old phone has no route, so nothing is safe to name.
  const auto none = choose_reset_load(rules(), fleet({"SCCP41.8-2-2SR2S"}, kTarget, {kTarget}), catalog());
  CHECK_FALSE(none.load.has_value());
  CHECK(none.blocked.find("the phones on SCCP41.8-2-2SR2S have no route to SIP41.9-4-2SR3-1S") != std::string::npos);
}

TEST_CASE("no load is one step for a phone below 8.3(3) and one on a new-key-only load: blocked, naming both rules") {
  // The shipped rules let a new-key-only load go back to 8.5(2); the stricter
  // reading of phone-behaviour 3 (8.5(2) not signed with the new key) does not.
  std::ostringstream text;
  text << std::ifstream(cf::data_file("upgrade-rules")).rdbuf();
  text << "strict-key\t7941-7961\tnever\tany >=8.5(2)SR1\tany <=8.5(2)\t-\t-\ttest\tsure\t"
          "A new-key-only load verifies no load up to 8.5(2).\n";
  std::istringstream in(text.str());
  const auto strict = RuleSet::parse(in, "strict-rules", catalog());
  const auto choice =
      choose_reset_load(strict, fleet({"SCCP41.8-2-2SR2S", kTarget}, kTarget, kRoot), catalog());
  CHECK_FALSE(choice.load.has_value());
  INFO(choice.blocked);
  CHECK(choice.blocked.find("no load in the root is one step for every phone (SCCP41.8-2-2SR2S, SIP41.9-4-2SR3-1S)") !=
        std::string::npos);
  CHECK(choice.blocked.find("SIP41.9-4-2SR3-1S: rule cnu-833 forbids the jump from SCCP41.8-2-2SR2S") !=
        std::string::npos);
  CHECK(choice.blocked.find("rule strict-key forbids the jump from SIP41.9-4-2SR3-1S") != std::string::npos);
  // Under the shipped rules the same fleet can share 8.5(2).
  const auto shipped = choose_reset_load(rules(), fleet({"SCCP41.8-2-2SR2S", kTarget}, kTarget, kRoot), catalog());
  REQUIRE(shipped.load.has_value());
  CHECK(shipped.load->version.text == "8.5(2)");
}

TEST_CASE("fail closed: no jump rule for the family is an error") {
  std::istringstream in("#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n");
  const auto empty = RuleSet::parse(in, "empty-rules", catalog());
  CHECK_THROWS_AS(choose_reset_load(empty, fleet({"SCCP41.8-5-2S"}, kTarget, kRoot), catalog()), cf::Error);
}
