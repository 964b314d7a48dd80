#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/cli/records.hpp"
#include "cf/upgrade/inventory.hpp"
#include "cf/upgrade/planner.hpp"
#include "cf/upgrade/rules.hpp"
#include "upgrade_fixtures.hpp"

using namespace cf::upgrade;
using namespace cf::upgrade::test;
using cf::firmware::Protocol;
namespace fs = std::filesystem;

namespace {

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
  f7960.installed = {"P00302010200", "P00303010102", "P00305000500", "P00308000400", "P00308000900",
                     "P00308010200", "P0S3-04-1-00", "P0S3-04-4-00", "P0S3-05-3-00",
                     "P0S3-07-4-00", "P0S3-8-12-00", "P0S3-06-3-00"};
  f7960.old_sccp = "P00302010200";
  f7960.newest_sip = "P0S3-8-12-00";
  f7960.sip_back_from = "P0S3-04-1-00";
  // A SIP phone never takes SCCP 8.0(5) or later in one step (7940-sip-sccp805).
  f7960.sccp_back_to = "P00308000400";
  // 5.x refuses SCCP 8.0(5) and later (7940-sccp-804): 8.0(4) is the universal loader.
  f7960.old_to_sip = {"P00303010102", "P00305000500", "P00308000400", "P0S3-8-12-00"};
  // Cisco's SIP staging up to 7.x (sure), then back to SCCP directly (sure), rather
  // than the shorter way over the uncertain SIP 5.x/6.x -> SCCP rule.
  f7960.sip_to_sccp = {"P0S3-04-4-00", "P0S3-05-3-00", "P0S3-06-3-00", "P0S3-07-4-00",
                       "P00308000400"};
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

// An independent reading of "a step satisfies every rule": no never rule of the
// family matches the jump, and no forbid rule does or some allow rule does.
void check_satisfies_every_rule(const std::string& family, const LoadName& from, const LoadName& to) {
  bool allowed_by_some = false;
  std::vector<std::string> forbidding, never;
  for (const auto& rule : rules().rules()) {
    if (!rule.applies_to(family) || rule.kind == RuleKind::needs) continue;
    const bool from_ok = rule.from.matches(from);
    const bool to_ok = rule.to.matches(to, &from);
    if (rule.kind == RuleKind::allow && from_ok && to_ok) allowed_by_some = true;
    if (rule.kind == RuleKind::forbid && from_ok && to_ok) forbidding.push_back(rule.id);
    if (rule.kind == RuleKind::never && from_ok && to_ok) never.push_back(rule.id);
  }
  INFO(from.name << " -> " << to.name);
  CHECK(never.empty());
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

TEST_CASE("scan_root: loads under a hidden folder are none a phone could get") {
  TempDir root;
  root.touch("SCCP41.8-5-2S.loads");
  fs::create_directories(root.path / ".term" / "SIP41.9-4-2SR3-1S");
  fs::create_directories(root.path / ".fwunpack-AbC123");
  fs::copy_file(root.path / "SCCP41.8-5-2S.loads", root.path / ".term" / "SIP41.9-4-2SR3-1S" / "SIP41.9-4-2SR3-1S.loads");
  fs::copy_file(root.path / "SCCP41.8-5-2S.loads", root.path / ".fwunpack-AbC123" / "SIP41.8-5-2S.loads");
  fs::copy_file(root.path / "SCCP41.8-5-2S.loads", root.path / "sub-ok.loads");
  fs::create_directories(root.path / "7961");
  fs::copy_file(root.path / "SCCP41.8-5-2S.loads", root.path / "7961" / "SIP41.9-4-2SR3-1S.loads");
  Inventory inventory;
  inventory.scan_root(root.path, catalog());
  std::set<std::string> names;
  for (const auto& found : inventory.loads_of_family("7941-7961")) names.insert(found.name);
  CHECK(names == std::set<std::string>{"SCCP41.8-5-2S", "SIP41.9-4-2SR3-1S"});
  REQUIRE(inventory.find("SIP41.9-4-2SR3-1S") != nullptr);
  CHECK(inventory.find("SIP41.9-4-2SR3-1S")->dir == root.path / "7961");
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
  std::size_t plans = 0, steps = 0, blocked = 0;
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
        if (!outcome.steps) {
          // Old unsigned SIP loads are out of reach of signed ones; a refusal names the
          // rule that forbids the direct jump.
          CHECK(to.protocol == Protocol::sip);
          CHECK(to.version < load("P0S3-05-0-00").version);
          CHECK(outcome.blocked.find("forbids the direct jump") != std::string::npos);
          ++blocked;
          continue;
        }
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
        int downs = 0;
        for (const auto& step : plan) {
          CHECK(seen.insert(step.load.name).second);  // no load twice
          check_satisfies_every_rule(model->family, at, step.load);
          CHECK(step.uncertain == std::any_of(step.rules.begin(), step.rules.end(),
                                              [](const Rule* r) { return r->uncertain; }));
          CHECK(step.down == (!is_unknown(at) && step.load.protocol == at.protocol &&
                              step.load.version < at.version));
          downs += step.down;
          at = step.load;
          ++steps;
        }
        // An upgrade never steps down on the way.
        if (!is_unknown(from) && from.protocol == to.protocol && from.version < to.version)
          CHECK(downs == 0);
        // Shortest among routes that stay at or above the start and rest on sure
        // rules: no allowed jump skips ahead unless the plan it shortcuts goes below
        // the start or the skip needs an uncertain allow rule.
        const auto below_start = [&](const LoadName& l) {
          return !is_unknown(from) && l.protocol == from.protocol && l.version < from.version &&
                 l.name != to.name;
        };
        LoadName here = from;
        for (std::size_t i = 0; i + 1 < plan.size(); ++i) {
          for (std::size_t j = i + 1; j < plan.size(); ++j) {
            bool shortcut_avoids_below = false;
            for (std::size_t k = i; k < j; ++k) shortcut_avoids_below |= below_start(plan[k].load);
            const auto skip = judge_jump(rules().for_family(model->family), here, plan[j].load);
            const bool doubtful = skip.forbidden_by != nullptr && skip.allowed_by != nullptr &&
                                  skip.allowed_by->uncertain;
            if (!shortcut_avoids_below && !doubtful) CHECK_FALSE(skip.allowed);
          }
          here = plan[i].load;
        }
      }
    }
  }
  MESSAGE(plans << " plans, " << steps << " steps checked, " << blocked << " without a route");
  CHECK(plans > 500);
  CHECK(blocked < plans / 10);
}

TEST_CASE("no route names the rule that blocks it") {
  std::istringstream in(
      "#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n"
      "wall\t7940-7960\tforbid\tSCCP <8.0(9)\tSIP *\t-\t-\tDESIGN\tsure\tno SIP from old SCCP.\n");
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

namespace {

// A plan through exactly the loads a root holds (upgrade-path --root).
PlanOutcome plan_in_root(const std::string& model, const std::string& from, const std::string& to,
                         const std::vector<std::string>& root) {
  PlanRequest request;
  request.model = catalog().find_model(model);
  REQUIRE(request.model != nullptr);
  request.from = load(from);
  request.target = load(to);
  for (const auto& name : root) request.known.push_back(load(name));
  request.only_known = true;
  return plan_route(rules(), request, catalog());
}

std::vector<std::string> names(const PlanOutcome& outcome) {
  INFO(outcome.blocked);
  REQUIRE(outcome.steps.has_value());
  std::vector<std::string> out;
  for (const auto& step : *outcome.steps) out.push_back(step.load.name);
  return out;
}

}  // namespace

TEST_CASE("7940/7960 SIP 2.x-4.x goes through 4.4, 5.3, 6.x and 7.x with whatever loads the root holds") {
  struct Case {
    const char* from;
    std::vector<std::string> root;
    std::vector<std::string> route;
  };
  const std::vector<std::string> staged{"P0S3-04-4-00", "P0S3-05-3-00", "P0S3-06-3-00",
                                        "P0S3-07-4-00", "P0S3-8-12-00"};
  const Case cases[] = {
      {"P0S3-02-3-00", staged, staged},
      {"P0S3-03-1-00", staged, staged},
      {"P0S3-04-1-00", staged, staged},
      {"P0S3-04-4-00", staged, {"P0S3-05-3-00", "P0S3-06-3-00", "P0S3-07-4-00", "P0S3-8-12-00"}},
      // Other 6.x and 7.x loads fill their class; the newest of a class is taken.
      {"P0S3-04-4-00",
       {"P0S3-05-3-00", "P0S3-06-0-00", "P0S3-06-2-00", "P0S3-07-1-00", "P0S3-07-5-00", "P0S3-8-12-00"},
       {"P0S3-05-3-00", "P0S3-06-2-00", "P0S3-07-5-00", "P0S3-8-12-00"}},
      {"P0S3-06-3-00", staged, {"P0S3-07-4-00", "P0S3-8-12-00"}},
      {"P0S3-07-4-00", staged, {"P0S3-8-12-00"}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.from);
    CHECK(names(plan_in_root("7960", c.from, "P0S3-8-12-00", c.root)) == c.route);
  }
  // Never straight from 2.x-4.x to 7.x or later, and never without the 5.3 stage.
  const auto lacking = plan_in_root("7940", "P0S3-04-1-00", "P0S3-8-12-00",
                                    {"P0S3-04-4-00", "P0S3-06-3-00", "P0S3-07-4-00", "P0S3-8-12-00"});
  REQUIRE_FALSE(lacking.steps.has_value());
  CHECK(lacking.blocked.find("'SIP >=5.3 <5.4' (rule 7940-sip-53), and the root holds none") !=
        std::string::npos);
}

TEST_CASE("7940/7960 signed loads never go back to unsigned ones") {
  const auto back = plan_in_root("7960", "P0S3-8-12-00", "P0S3-04-4-00",
                                 {"P00308000900", "P0S3-07-4-00", "P0S3-04-4-00"});
  REQUIRE_FALSE(back.steps.has_value());
  CHECK(back.blocked.find("rule 7940-signed (") != std::string::npos);
  CHECK_FALSE(plan_in_root("7960", "P0S3-05-3-00", "P0S3-04-4-00", {"P0S3-04-4-00"}).steps.has_value());
}

TEST_CASE("any SCCP 8.x load of the root is the universal-loader stone") {
  // From an SCCP 8.x load every SIP load is one step (7940-ual).
  for (const char* loader : {"P0030801SR02", "P00308010200", "P00308000500", "P00308000400"}) {
    CAPTURE(loader);
    CHECK(names(plan_in_root("7960", loader, "P0S3-8-12-00", {loader, "P0S3-8-12-00"})) ==
          std::vector<std::string>{"P0S3-8-12-00"});
  }
  // From 5.x only 8.0(4) or older 8.x loads are taken (7940-sccp-804); a later
  // loader is reached through 8.0(4) only when the plan must end on it.
  CHECK(names(plan_in_root("7960", "P00305000500", "P0S3-8-12-00",
                           {"P00308000400", "P00308000900", "P0030801SR02", "P0S3-8-12-00"})) ==
        std::vector<std::string>{"P00308000400", "P0S3-8-12-00"});
  CHECK(names(plan_in_root("7960", "P00305000500", "P00308000900",
                           {"P00308000400", "P00308000900", "P0S3-8-12-00"})) ==
        std::vector<std::string>{"P00308000400", "P00308000900"});
  // A root whose 8.x loads are all 8.0(5) or later names the class it lacks.
  const auto late = plan_in_root("7960", "P00305000500", "P0S3-8-12-00",
                                 {"P00308000500", "P0030801SR02", "P00308010200", "P0S3-8-12-00"});
  REQUIRE_FALSE(late.steps.has_value());
  CHECK(late.lacks_stone);
  CHECK(late.blocked.find("P00308000400") != std::string::npos);
  // A root without any SCCP 8.x load names the class it lacks.
  const auto none = plan_in_root("7960", "P00305000500", "P0S3-8-12-00", {"P0S3-8-12-00"});
  REQUIRE_FALSE(none.steps.has_value());
  CHECK(none.blocked.find("'SCCP >=8.0 <9.0' (e.g. P00308000400) (rule 7940-ual-sip), and the root holds none") !=
        std::string::npos);
}

TEST_CASE("7940/7960 Auth error edges: 8.0(4) before 8.0(5)+, 8.1(1) before 8.1(2)+, SIP never to SCCP 8.0(5)+") {
  CHECK(names(plan_in_root("7960", "P00308000900", "P00308010200",
                           {"P00308010100", "P00308010200"})) ==
        std::vector<std::string>{"P00308010100", "P00308010200"});
  const auto no_811 = plan_in_root("7960", "P00308000900", "P00308010200", {"P00308010200"});
  REQUIRE_FALSE(no_811.steps.has_value());
  CHECK(no_811.blocked.find("rule 7940-sccp-812") != std::string::npos);
  // SIP back to SCCP 8.0(9): through an older SCCP load, never straight.
  CHECK(names(plan_in_root("7960", "P0S3-8-12-00", "P00308000900", {"P00308000400", "P00308000900"})) ==
        std::vector<std::string>{"P00308000400", "P00308000900"});
  const auto straight = plan_in_root("7960", "P0S3-8-12-00", "P00308000900", {"P00308000900"});
  REQUIRE_FALSE(straight.steps.has_value());
  CHECK(straight.blocked.find("rule 7940-sip-sccp805") != std::string::npos);
}

TEST_CASE("the seed's route comes out when the seed's loads are present, with no step down") {
  const std::vector<std::string> seed{"P00303010102", "P00305000500", "P00308000400", "P0S3-8-12-00"};
  CHECK(names(plan_in_root("7940", "P00303010102", "P0S3-8-12-00", seed)) ==
        std::vector<std::string>{"P00305000500", "P00308000400", "P0S3-8-12-00"});
  // The demo's 7940 runs 5.0(5): it is not sent back to 3.1(1.2) first.
  CHECK(names(plan_in_root("7940", "P00305000500", "P0S3-8-12-00", seed)) ==
        std::vector<std::string>{"P00308000400", "P0S3-8-12-00"});
  // Without a root the plan names the seed's loads to download.
  PlanRequest request;
  request.model = catalog().find_model("7960");
  request.from = unknown_load("7940-7960", Protocol::sccp);
  request.target = load("P0S3-8-12-00");
  CHECK(names(plan_route(rules(), request, catalog())) == seed);
}

TEST_CASE("a downgrade is planned only where the target requires it") {
  const std::vector<std::string> root{"SCCP41.8-3-1S", "SCCP41.8-5-2S", "SIP41.8-5-2S",
                                      "SCCP41.9-4-2SR3-1S", "SIP41.9-4-2SR3-1S"};
  const auto up = plan_in_root("7961", "SCCP41.8-5-2S", "SIP41.9-4-2SR3-1S", root);
  REQUIRE(up.steps.has_value());
  for (const auto& step : *up.steps) CHECK_FALSE(step.down);
  // Back from a new-key-only load to an old-key one: through 8.5(2), the steps marked.
  const auto down = plan_in_root("7961", "SIP41.9-4-2SR3-1S", "SCCP41.8-3-1S", root);
  REQUIRE(down.steps.has_value());
  REQUIRE(down.steps->size() == 2);
  CHECK(down.steps->front().load.name == "SCCP41.8-5-2S");
  CHECK(down.steps->back().down);
  CHECK(down.steps->back().why.find("; down") != std::string::npos);
}

TEST_CASE("fail closed: no jump rule for the family is an error, never a free pass") {
  std::istringstream in("#rule\tfamilies\tkind\tfrom\tto\tvia\tprefer\tsource\tconfidence\tnote\n");
  const auto empty = RuleSet::parse(in, "empty-rules", catalog());
  PlanRequest request;
  request.model = catalog().find_model("7960");
  request.from = load("P00305000500");
  request.target = load("P0S3-8-12-00");
  CHECK_THROWS_WITH_AS(plan_route(empty, request, catalog()), doctest::Contains("holds no rules"),
                       cf::Error);
  request.model = catalog().find_model("7931");
  REQUIRE(request.model != nullptr);
  request.from = load("SCCP31.9-2-1S");
  request.target = load("SCCP31.9-3-1S");
  CHECK_THROWS_WITH_AS(plan_route(rules(), request, catalog()),
                       doctest::Contains("speaks about the jumps between 7931"), cf::Error);
}
