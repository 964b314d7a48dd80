#pragma once
// The upgrade rules (data/upgrade-rules, format in upgrade-path(1) RULES): which
// one-step jumps between the loads of a family are forbidden, never possible or
// allowed, which class of loads is the stepping stone around a forbidden jump (any
// load that matches, the seed's own loads preferred), and which files a load needs
// beside it. The planner (planner.hpp) searches the graph these rules define.
#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"

namespace cf::upgrade {

using firmware::LoadName;

// One side of a rule: a load name, or a protocol plus version conditions.
struct Selector {
  enum class Op { lt, le, gt, ge, eq, same_as_from };
  struct Condition {
    Op op = Op::eq;
    firmware::Version version;  // unused for same_as_from
  };
  std::string text;                     // as written, for messages
  std::optional<std::string> load;      // an exact load name
  std::optional<firmware::Protocol> protocol;  // nullopt = any
  std::vector<Condition> conditions;    // all must hold

  // `from` is the load jumped from; needed only for =from.
  bool matches(const LoadName& load, const LoadName* from = nullptr) const;
};

// forbid: the jump is not allowed unless an allow rule lifts it; never: no allow
// rule lifts it (a signed load does not go back to an unsigned one).
enum class RuleKind { forbid, never, allow, needs };
std::string_view to_string(RuleKind kind);

struct Rule {
  std::string id;
  std::vector<std::string> families;  // catalog family names; empty = every family
  RuleKind kind = RuleKind::forbid;
  Selector from;                      // unused for needs
  Selector to;
  std::optional<Selector> stones;     // forbid: the class of loads a route goes through
  std::vector<std::string> prefer;    // forbid: templates of the stones to use when present
  std::vector<std::string> via;       // needs: templates of the files a load needs
  std::string source;
  bool uncertain = false;
  std::string note;
  std::string origin;                 // "file:line", for messages

  bool applies_to(std::string_view family) const;
  // Does this rule speak about the jump from -> to (for needs: about `to`)?
  bool matches(const LoadName& from, const LoadName& to) const;
  // `via` with {platform}, {name} and {name#PREFIX} filled in.
  std::vector<std::string> expand_via(const firmware::ModelInfo& model, std::string_view load) const;
  // `prefer` with {platform} filled in: the loads of the seed's own route.
  std::vector<std::string> preferred(const firmware::ModelInfo& model) const;
  // Is `load` a stepping stone of this rule (in its class, or one it prefers)?
  bool is_stone(const LoadName& load, const firmware::ModelInfo& model) const;
  // "SCCP >=8.0 <9.0 (e.g. P00308000900)", for messages about a missing stone.
  std::string describe_stones(const firmware::ModelInfo& model) const;
  // "rule 7940-ual-sip (data/upgrade-rules:24; source ...; uncertain)"
  std::string citation() const;
};

class RuleSet {
 public:
  std::string source;  // file name, for messages

  // Throws cf::cli::RecordError ("file:line: reason") for a malformed line.
  static RuleSet parse(std::istream& in, const std::string& source_name,
                       const firmware::ModelCatalog& catalog);
  static RuleSet load(const std::filesystem::path& file, const firmware::ModelCatalog& catalog);
  // data_file("upgrade-rules").
  static RuleSet load_default(const firmware::ModelCatalog& catalog);

  const std::vector<Rule>& rules() const noexcept { return rules_; }
  std::vector<const Rule*> for_family(std::string_view family) const;
  // Fail closed: throws cf::Error unless some forbid, never or allow rule speaks
  // about the family's jumps (an empty file speaks about none).
  void require_jump_rules(std::string_view family) const;

 private:
  std::vector<Rule> rules_;
};

// Parses one side of a rule ("SCCP <5.0", "any >=8.3(3) <9.0", "P00308000900").
Result<Selector> parse_selector(std::string_view text, bool allow_same_as_from,
                                const firmware::ModelCatalog& catalog);

// The verdict of the rules on one jump: allowed unless a never rule matches, or a
// forbid rule matches and no allow rule does (allow lifts forbid, so a universal
// loader can lift every forbid, but never a never).
struct EdgeVerdict {
  bool allowed = true;
  const Rule* forbidden_by = nullptr;  // the first never (else forbid) rule that matches
  const Rule* allowed_by = nullptr;    // the first allow rule that matches, if any
};
EdgeVerdict judge_jump(const std::vector<const Rule*>& rules, const LoadName& from,
                       const LoadName& to);

}  // namespace cf::upgrade
