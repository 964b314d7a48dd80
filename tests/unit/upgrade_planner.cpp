#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

#include "cf/cli/records.hpp"
#include "cf/upgrade/inventory.hpp"
#include "cf/upgrade/planner.hpp"
#include "cf/upgrade/rules.hpp"

using namespace cf::upgrade;
using cf::firmware::ModelCatalog;
using cf::firmware::Protocol;
namespace fs = std::filesystem;

namespace {

const ModelCatalog& catalog() {
  static const ModelCatalog instance = ModelCatalog::load_default();
  return instance;
}

const RuleSet& rules() {
  static const RuleSet instance = RuleSet::load_default(catalog());
  return instance;
}

LoadName load(const std::string& name) {
  auto parsed = cf::firmware::parse_load_name(name, catalog());
  INFO(parsed.error());
  REQUIRE(parsed.ok());
  return parsed.value();
}

// One family's test world: a model, the loads an admin might have, and the
// answers the rules (not the code) imply for the standard questions.
struct Family {
  std::string model;
  std::vector<std::string> installed;
  std::string old_sccp, newest_sip, sip_back_from, sccp_back_to;
  std::vector<std::string> old_to_sip;      // expected route old SCCP -> newest SIP
  std::vector<std::string> sip_to_sccp;     // expected route SIP -> SCCP
  std::vector<std::string> unknown_to_sip;  // expected route from an unknown SCCP load
  std::string stone;                        // a stepping stone left out of the root
  std::string stone_archive;
};

Family cnu(const std::string& model, const std::string& p, const std::string& bundle) {
  const auto n = [&](const char* prefix, const char* version) {
    return fmt::format("{}{}.{}", prefix, p, version);
  };
  Family f;
  f.model = model;
  f.installed = {n("SCCP", "8-0-4S"),  n("SCCP", "8-3-3S"),        n("SCCP", "8-5-2S"),
                 n("SIP", "8-5-2S"),   n("SIP", "8-2-1S"),         n("SCCP", "9-4-2SR3-1S"),
                 n("SIP", "9-4-2SR3-1S"), n("SIP", "9-3-1SR1-1S")};
  f.old_sccp = n("SCCP", "8-0-4S");
  f.newest_sip = n("SIP", "9-4-2SR3-1S");
  f.sip_back_from = n("SIP", "8-2-1S");
  f.sccp_back_to = n("SCCP", "9-4-2SR3-1S");
  f.old_to_sip = {n("SCCP", "8-5-2S"), f.newest_sip};
  // Start on SIP: keep SIP through the stepping stone, switch on the last step.
  f.sip_to_sccp = {n("SIP", "8-5-2S"), f.sccp_back_to};
  f.unknown_to_sip = {n("SCCP", "8-5-2S"), f.newest_sip};
  f.stone = n("SCCP", "8-5-2S");
  f.stone_archive = bundle + "-sccp.8-5-2.zip";
  return f;
}

std::vector<Family> families() {
  Family f7960;
  f7960.model = "7960";
  f7960.installed = {"P00302010200", "P00303010102", "P00305000500", "P00308000900",
                     "P00308010200", "P0S3-04-1-00", "P0S3-07-4-00", "P0S3-8-12-00", "P0S3-06-3-00"};
  f7960.old_sccp = "P00302010200";
  f7960.newest_sip = "P0S3-8-12-00";
  f7960.sip_back_from = "P0S3-04-1-00";
  f7960.sccp_back_to = "P00308010200";
  f7960.old_to_sip = {"P00303010102", "P00305000500", "P00308000900", "P0S3-8-12-00"};
  f7960.sip_to_sccp = {"P0S3-07-4-00", "P00308010200"};
  f7960.unknown_to_sip = f7960.old_to_sip;
  f7960.stone = "P00305000500";
  f7960.stone_archive = "cmterm-7940-7960-sccp.5-0-5.zip";
  return {f7960,
          cnu("7961", "41", "cmterm-7941_7961"),
          cnu("7942", "42", "cmterm-7942_7962"),
          cnu("7965", "45", "cmterm-7945_7965"),
          cnu("7971", "70", "cmterm-7970_7971"),
          cnu("7906", "11", "cmterm-7911_7906"),
          cnu("7975", "75", "cmterm-7975")};
}

PlanRequest request_for(const Family& f, const LoadName& from, const std::string& target) {
  PlanRequest request;
  request.model = catalog().find_model(f.model);
  REQUIRE(request.model != nullptr);
  request.from = from;
  request.target = load(target);
  for (const auto& name : f.installed) request.known.push_back(load(name));
  return request;
}

std::vector<std::string> route(const Family& f, const LoadName& from, const std::string& target) {
  const auto outcome = plan_route(rules(), request_for(f, from, target), catalog());
  INFO(outcome.blocked);
  REQUIRE(outcome.steps.has_value());
  std::vector<std::string> names;
  for (const auto& step : *outcome.steps) names.push_back(step.load.name);
  return names;
}

// An independent reading of "a step satisfies every rule": no forbid rule of
// the family matches the jump, or some allow rule of the family does.
void check_satisfies_every_rule(const std::string& family, const LoadName& from, const LoadName& to) {
  bool allowed_by_some = false;
  std::vector<std::string> forbidding;
  for (const auto& rule : rules().rules()) {
    if (!rule.applies_to(family) || rule.kind == RuleKind::needs) continue;
    const bool from_ok = rule.from.matches(from);
    const bool to_ok = rule.to.matches(to, &from);
    if (rule.kind == RuleKind::allow && from_ok && to_ok) allowed_by_some = true;
    if (rule.kind == RuleKind::forbid && from_ok && to_ok) forbidding.push_back(rule.id);
  }
  INFO(from.name << " -> " << to.name);
  CHECK((forbidding.empty() || allowed_by_some));
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / fmt::format("cf-upgrade-test-{}", ::getpid());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  // A .loads file gets a one-line component list and that component, so the
  // load passes the shared completeness check (cf/firmware/completeness.hpp).
  void touch(const std::string& name) const {
    if (name.ends_with(".loads")) {
      const auto component = name.substr(0, name.size() - 6) + ".bin";
      std::ofstream(path / name) << component << "\n";
      std::ofstream(path / component) << "x";
      return;
    }
    std::ofstream(path / name) << "x";
  }
};

}  // namespace

TEST_CASE("old SCCP to the newest SIP goes through every stepping stone, per family") {
  for (const auto& f : families()) {
    CAPTURE(f.model);
    CHECK(route(f, load(f.old_sccp), f.newest_sip) == f.old_to_sip);
  }
}

TEST_CASE("SIP back to SCCP follows the reverse rules, per family") {
  for (const auto& f : families()) {
    CAPTURE(f.model);
    CHECK(route(f, load(f.sip_back_from), f.sccp_back_to) == f.sip_to_sccp);
    // From the newest SIP back to SCCP is one step (same version, or SIP >= 7 -> SCCP >= 5).
    CHECK(route(f, load(f.newest_sip), f.sccp_back_to) == std::vector<std::string>{f.sccp_back_to});
  }
}

TEST_CASE("a phone already at the target has no steps") {
  for (const auto& f : families()) {
    CAPTURE(f.model);
    CHECK(route(f, load(f.newest_sip), f.newest_sip).empty());
    CHECK(route(f, load(f.old_sccp), f.old_sccp).empty());
  }
}

TEST_CASE("an unknown start goes through every mandatory stepping stone") {
  for (const auto& f : families()) {
    CAPTURE(f.model);
    const auto* model = catalog().find_model(f.model);
    REQUIRE(model != nullptr);
    CHECK(route(f, unknown_load(model->family, Protocol::sccp), f.newest_sip) == f.unknown_to_sip);
  }
}

TEST_CASE("a stepping stone missing from the root is reported with its usual archive") {
  for (const auto& f : families()) {
    CAPTURE(f.model);
    TempDir root;
    for (const auto& name : f.installed) {
      if (name == f.stone) continue;
      root.touch(name + ".loads");
      if (name.starts_with("P0S3-")) {
        root.touch("P003-" + name.substr(5) + ".bin");
        root.touch("P003-" + name.substr(5) + ".sbn");
      }
    }
    Inventory inventory;
    inventory.scan_root(root.path, catalog());
    auto request = request_for(f, load(f.old_sccp), f.newest_sip);
    request.known = inventory.loads_of_family(request.model->family);
    const auto outcome = plan_route(rules(), request, catalog());
    REQUIRE(outcome.steps.has_value());
    std::vector<LoadName> loads;
    for (const auto& step : *outcome.steps) loads.push_back(step.load);
    const auto missing = check_complete(loads, inventory, rules(), *request.model);
    REQUIRE(missing.size() == 1);
    CHECK(missing[0].load == f.stone);
    CHECK(missing[0].files.empty());
    CHECK(missing[0].archive == f.stone_archive);

    // Installing it completes the plan.
    root.touch(f.stone + ".loads");
    Inventory full;
    full.scan_root(root.path, catalog());
    CHECK(check_complete(loads, full, rules(), *request.model).empty());
  }
}

TEST_CASE("a SIP 8.x load of the 7940/7960 needs its P003 loader files beside it") {
  TempDir root;
  root.touch("P0S3-8-12-00.loads");
  root.touch("P003-8-12-00.bin");
  Inventory inventory;
  inventory.scan_root(root.path, catalog());
  const auto* model = catalog().find_model("7940");
  const auto missing = check_complete({load("P0S3-8-12-00")}, inventory, rules(), *model);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].files == std::vector<std::string>{"P003-8-12-00.sbn"});
  REQUIRE(missing[0].rule != nullptr);
  CHECK(missing[0].rule->id == "7940-sip-loader");
}

TEST_CASE("property: every step of every plan between known loads satisfies every rule") {
  std::size_t plans = 0, steps = 0;
  for (const auto& f : families()) {
    CAPTURE(f.model);
    const auto* model = catalog().find_model(f.model);
    REQUIRE(model != nullptr);
    PlanRequest base = request_for(f, load(f.old_sccp), f.newest_sip);
    const auto everything = candidate_loads(rules(), base, catalog());
    std::vector<LoadName> starts = everything;
    starts.push_back(unknown_load(model->family, Protocol::sccp));
    starts.push_back(unknown_load(model->family, Protocol::sip));
    for (const auto& from : starts) {
      for (const auto& to : everything) {
        PlanRequest request = base;
        request.from = from;
        request.target = to;
        const auto outcome = plan_route(rules(), request, catalog());
        INFO(from.name << " -> " << to.name << ": " << outcome.blocked);
        REQUIRE(outcome.steps.has_value());  // the shipped rules leave no load unreachable
        ++plans;
        const auto& plan = *outcome.steps;
        if (from.name == to.name) {
          CHECK(plan.empty());
          continue;
        }
        REQUIRE_FALSE(plan.empty());
        CHECK(plan.back().load.name == to.name);
        std::set<std::string> seen{from.name};
        LoadName at = from;
        for (const auto& step : plan) {
          CHECK(seen.insert(step.load.name).second);  // no load twice
          check_satisfies_every_rule(model->family, at, step.load);
          CHECK(step.uncertain == std::any_of(step.rules.begin(), step.rules.end(),
                                              [](const Rule* r) { return r->uncertain; }));
          at = step.load;
          ++steps;
        }
        // Shortest: a plan of k steps has no allowed jump that skips ahead.
        LoadName here = from;
        for (std::size_t i = 0; i + 1 < plan.size(); ++i) {
          for (std::size_t j = i + 1; j < plan.size(); ++j)
            CHECK_FALSE(judge_jump(rules().for_family(model->family), here, plan[j].load).allowed);
          here = plan[i].load;
        }
      }
    }
  }
  MESSAGE(plans << " plans, " << steps << " steps checked");
  CHECK(plans > 500);
}

TEST_CASE("no route names the rule that blocks it") {
  std::istringstream in(
      "#rule\tfamilies\tkind\tfrom\tto\tvia\tsource\tconfidence\tnote\n"
      "wall\t7940-7960\tforbid\tSCCP <8.0(9)\tSIP *\t-\tDESIGN\tsure\tno SIP from old SCCP.\n");
  const auto wall = RuleSet::parse(in, "wall-rules", catalog());
  PlanRequest request;
  request.model = catalog().find_model("7960");
  request.from = load("P00305000500");
  request.target = load("P0S3-8-12-00");
  const auto outcome = plan_route(wall, request, catalog());
  CHECK_FALSE(outcome.steps.has_value());
  CHECK(outcome.blocked.find("rule wall (wall-rules:2") != std::string::npos);
  // With a load that leads around the wall, there is a route again.
  request.known = {load("P00308000900")};
  const auto around = plan_route(wall, request, catalog());
  REQUIRE(around.steps.has_value());
  CHECK(around.steps->size() == 2);
  CHECK(around.steps->front().why == "detour around wall");
}

TEST_CASE("usual archive names come from the catalog's bundle column") {
  const auto* m7961 = catalog().find_model("7961");
  const auto* m7960 = catalog().find_model("7960");
  CHECK(usual_archive(*m7961, load("SCCP41.8-5-2S")) == "cmterm-7941_7961-sccp.8-5-2.zip");
  CHECK(usual_archive(*m7961, load("SIP41.9-4-2SR3-1S")) == "cmterm-7941_7961-sip.9-4-2SR3-1.zip");
  CHECK(usual_archive(*m7960, load("P00308000900")) == "cmterm-7940-7960-sccp.8-0-9.zip");
}

TEST_CASE("a manifest lists loads; a bad manifest line names its line") {
  std::istringstream good(
      "#load\tprotocol\tfamily\tmodels\tversion\tdir\tfiles\tbytes\n"
      "SIP41.9-4-2SR3-1S\tSIP\t7941-7961\t7941,7961\t9.4(2)SR3\t/srv/tftp\t8\t100\n"
      "P00308000900\tSCCP\t7940-7960\t7940,7960\t8.0(9)\t/srv/tftp\t4\t100\n");
  Inventory inventory;
  inventory.read_manifest(good, "stdin", catalog());
  CHECK(inventory.loads_of_family("7941-7961").size() == 1);
  REQUIRE(inventory.find("P00308000900") != nullptr);
  CHECK(inventory.find("P00308000900")->dir == "/srv/tftp");
  std::istringstream bad(
      "#load\tprotocol\tfamily\tmodels\tversion\tdir\tfiles\tbytes\n"
      "NOTALOAD\tSIP\t7941-7961\t7941,7961\t9.4(2)SR3\t/srv/tftp\t8\t100\n");
  CHECK_THROWS_WITH_AS(inventory.read_manifest(bad, "stdin", catalog()),
                       doctest::Contains("stdin:2: "), cf::cli::RecordError);
}
