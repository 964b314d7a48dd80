#include "cf/upgrade/rules.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "cf/cli/data_dir.hpp"
#include "cf/cli/records.hpp"

namespace cf::upgrade {
namespace {

using firmware::Protocol;
using firmware::Version;

std::vector<std::string_view> split_on(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto at = text.find(separator, start);
    if (at == std::string_view::npos) at = text.size();
    if (at > start) parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
  return parts;
}

Result<Selector::Condition> parse_condition(std::string_view token, bool allow_same_as_from) {
  using Op = Selector::Op;
  struct Prefix {
    std::string_view text;
    Op op;
  };
  static constexpr Prefix prefixes[] = {{"<=", Op::le}, {">=", Op::ge}, {"<", Op::lt},
                                        {">", Op::gt},  {"=", Op::eq}};
  for (const auto& prefix : prefixes) {
    if (!token.starts_with(prefix.text)) continue;
    const auto rest = token.substr(prefix.text.size());
    if (prefix.op == Op::eq && rest == "from") {
      if (!allow_same_as_from)
        return Result<Selector::Condition>::failure("=from is only meaningful in the to column");
      return Selector::Condition{Op::same_as_from, {}};
    }
    auto version = firmware::parse_version(rest);
    if (!version) return Result<Selector::Condition>::failure(version.error());
    return Selector::Condition{prefix.op, version.value()};
  }
  return Result<Selector::Condition>::failure(fmt::format(
      "'{}' is not a condition (expected *, <V, <=V, >V, >=V, =V or =from)", token));
}

// Fills {platform}, {name} and {name#PREFIX}; fails on any other placeholder.
Result<std::string> expand_template(std::string_view text, std::string_view platform,
                                    std::string_view name) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto open = text.find('{', at);
    if (open == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    out.append(text.substr(at, open - at));
    const auto close = text.find('}', open);
    if (close == std::string_view::npos)
      return Result<std::string>::failure(fmt::format("unclosed '{{' in '{}'", text));
    const auto key = text.substr(open + 1, close - open - 1);
    if (key == "platform") {
      out.append(platform);
    } else if (key == "name") {
      out.append(name);
    } else if (key.starts_with("name#")) {
      const auto prefix = key.substr(5);
      out.append(name.starts_with(prefix) ? name.substr(prefix.size()) : name);
    } else {
      return Result<std::string>::failure(fmt::format(
          "unknown placeholder {{{}}} in '{}' (expected {{platform}}, {{name}} or {{name#PREFIX}})",
          key, text));
    }
    at = close + 1;
  }
  return out;
}

Result<RuleKind> parse_kind(std::string_view text) {
  if (text == "forbid") return RuleKind::forbid;
  if (text == "never") return RuleKind::never;
  if (text == "allow") return RuleKind::allow;
  if (text == "needs") return RuleKind::needs;
  return Result<RuleKind>::failure(
      fmt::format("unknown kind '{}' (expected forbid, never, allow or needs)", text));
}

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
           return std::islower(c) || std::isdigit(c) || c == '-';
         });
}

// Catalog families named by the column: family names or model names; `*` = all.
Result<std::vector<std::string>> parse_families(std::string_view text,
                                                const firmware::ModelCatalog& catalog) {
  if (text == "*") return std::vector<std::string>{};
  const auto known = catalog.families();
  std::vector<std::string> families;
  for (const auto part : split_on(text, ',')) {
    std::string family(part);
    if (std::find(known.begin(), known.end(), family) == known.end()) {
      const auto* model = catalog.find_model(part);
      if (model == nullptr)
        return Result<std::vector<std::string>>::failure(
            fmt::format("'{}' is neither a family nor a model in the catalog", part));
      family = model->family;
    }
    if (std::find(families.begin(), families.end(), family) == families.end())
      families.push_back(family);
  }
  if (families.empty())
    return Result<std::vector<std::string>>::failure("the families column is empty");
  return families;
}

}  // namespace

std::string_view to_string(RuleKind kind) {
  switch (kind) {
    case RuleKind::forbid: return "forbid";
    case RuleKind::never: return "never";
    case RuleKind::allow: return "allow";
    case RuleKind::needs: return "needs";
  }
  return "forbid";
}

Result<Selector> parse_selector(std::string_view text, bool allow_same_as_from,
                                const firmware::ModelCatalog& catalog) {
  Selector selector;
  selector.text = std::string(text);
  const auto tokens = split_on(text, ' ');
  if (tokens.empty()) return Result<Selector>::failure("an empty load selector");
  const auto first = to_lower(tokens[0]);
  if (first == "any" || first == "sccp" || first == "sip" || first == "mgcp") {
    if (first != "any") selector.protocol = firmware::parse_protocol(first).value();
    for (std::size_t i = 1; i < tokens.size(); ++i) {
      if (tokens[i] == "*") continue;
      auto condition = parse_condition(tokens[i], allow_same_as_from);
      if (!condition) return Result<Selector>::failure(condition.error());
      selector.conditions.push_back(condition.value());
    }
    return selector;
  }
  if (tokens.size() != 1)
    return Result<Selector>::failure(fmt::format(
        "'{}' is neither PROTOCOL [CONDITION...] (SCCP, SIP, MGCP, any) nor one load name", text));
  auto load = firmware::parse_load_name(tokens[0], catalog);
  if (!load) return Result<Selector>::failure(load.error());
  if (load->kind != firmware::LoadKind::application)
    return Result<Selector>::failure(fmt::format("'{}' is not an application load", tokens[0]));
  selector.load = load->name;
  return selector;
}

bool Selector::matches(const LoadName& candidate, const LoadName* from) const {
  if (load) return candidate.name == *load;
  if (protocol && candidate.protocol != *protocol) return false;
  for (const auto& condition : conditions) {
    const auto& v = candidate.version;
    switch (condition.op) {
      case Op::lt: if (!(v < condition.version)) return false; break;
      case Op::le: if (!(v <= condition.version)) return false; break;
      case Op::gt: if (!(v > condition.version)) return false; break;
      case Op::ge: if (!(v >= condition.version)) return false; break;
      case Op::eq: if (!(v == condition.version)) return false; break;
      case Op::same_as_from:
        if (from == nullptr || from->version.key.empty() || from->version != v) return false;
        break;
    }
  }
  return true;
}

bool Rule::applies_to(std::string_view family) const {
  return families.empty() || std::find(families.begin(), families.end(), family) != families.end();
}

bool Rule::matches(const LoadName& jump_from, const LoadName& jump_to) const {
  if (kind == RuleKind::needs) return to.matches(jump_to);
  return from.matches(jump_from) && to.matches(jump_to, &jump_from);
}

std::vector<std::string> Rule::expand_via(const firmware::ModelInfo& model,
                                          std::string_view load) const {
  std::vector<std::string> out;
  for (const auto& text : via) {
    auto expanded = expand_template(text, model.platform, load);
    if (expanded) out.push_back(expanded.value());  // templates were checked at parse time
  }
  return out;
}

std::vector<std::string> Rule::preferred(const firmware::ModelInfo& model) const {
  std::vector<std::string> out;
  for (const auto& text : prefer) {
    auto expanded = expand_template(text, model.platform, "");
    if (expanded) out.push_back(expanded.value());
  }
  return out;
}

bool Rule::is_stone(const LoadName& load, const firmware::ModelInfo& model) const {
  if (kind != RuleKind::forbid) return false;
  const auto names = preferred(model);
  if (std::find(names.begin(), names.end(), load.name) != names.end()) return true;
  return stones && stones->matches(load);
}

std::string Rule::describe_stones(const firmware::ModelInfo& model) const {
  const auto names = preferred(model);
  const std::string example =
      names.empty() ? "" : fmt::format(" (e.g. {})", fmt::join(names, " or "));
  if (stones) return fmt::format("a load of the class '{}'{}", stones->text, example);
  return names.empty() ? "no stepping stone" : fmt::format("{}", fmt::join(names, " or "));
}

std::string Rule::citation() const {
  return fmt::format("rule {} ({}; source: {}{})", id, origin, source,
                     uncertain ? "; uncertain" : "");
}

RuleSet RuleSet::parse(std::istream& in, const std::string& source_name,
                       const firmware::ModelCatalog& catalog) {
  cli::RecordReader reader(in, source_name,
                           {"rule", "families", "kind", "from", "to", "via", "prefer",
                            "source", "confidence", "note"});
  RuleSet set;
  std::set<std::string> ids;
  while (auto record = reader.next()) {
    const auto fail = [&](const std::string& reason) {
      throw cli::RecordError(source_name, record->line, reason);
    };
    Rule rule;
    rule.id = record->at("rule");
    rule.origin = fmt::format("{}:{}", source_name, record->line);
    if (!valid_id(rule.id)) fail(fmt::format("rule id '{}' must be 1-64 of a-z, 0-9 and '-'", rule.id));
    if (!ids.insert(rule.id).second) fail(fmt::format("rule id '{}' is used twice", rule.id));

    auto families = parse_families(record->at("families"), catalog);
    if (!families) fail(families.error());
    rule.families = families.value();

    auto kind = parse_kind(record->at("kind"));
    if (!kind) fail(kind.error());
    rule.kind = kind.value();

    const auto& from_text = record->at("from");
    if (rule.kind == RuleKind::needs) {
      if (from_text != "-") fail("a needs rule has '-' in the from column");
    } else {
      auto from = parse_selector(from_text, false, catalog);
      if (!from) fail(fmt::format("from: {}", from.error()));
      rule.from = from.value();
    }
    auto to = parse_selector(record->at("to"), rule.kind != RuleKind::needs, catalog);
    if (!to) fail(fmt::format("to: {}", to.error()));
    rule.to = to.value();

    const auto& via_text = record->at("via");
    const auto& prefer_text = record->at("prefer");
    if (rule.kind != RuleKind::forbid && prefer_text != "-")
      fail("only a forbid rule prefers stepping stones; put '-' in the prefer column");
    switch (rule.kind) {
      case RuleKind::forbid:
        if (via_text != "-") {
          auto stones = parse_selector(via_text, false, catalog);
          if (!stones) fail(fmt::format("via: {}", stones.error()));
          if (stones->load)
            fail(fmt::format("via: '{}' names one load; a stepping stone is a class of loads "
                             "(PROTOCOL CONDITION...), its usual load goes in the prefer column",
                             via_text));
          rule.stones = stones.value();
        }
        if (prefer_text != "-")
          for (const auto part : split_on(prefer_text, ' ')) rule.prefer.emplace_back(part);
        break;
      case RuleKind::never:
      case RuleKind::allow:
        if (via_text != "-")
          fail(fmt::format("a{} {} rule has '-' in the via column",
                           rule.kind == RuleKind::allow ? "n" : "", to_string(rule.kind)));
        break;
      case RuleKind::needs:
        if (via_text == "-") fail("a needs rule names at least one file in via");
        for (const auto part : split_on(via_text, ' ')) rule.via.emplace_back(part);
        for (const auto& text : rule.via) {
          auto probe = expand_template(text, "00", "NAME");
          if (!probe) fail(fmt::format("via: {}", probe.error()));
        }
        break;
    }
    // Every preferred stone must be a load of each family the rule is about, and
    // in the rule's class.
    for (const auto& text : rule.prefer) {
      auto probe = expand_template(text, "00", "");
      if (!probe) fail(fmt::format("prefer: {}", probe.error()));
    }
    for (const auto& family : rule.families.empty() ? catalog.families() : rule.families) {
      const auto models = catalog.family_models(family);
      if (models.empty()) continue;
      for (const auto& stone : rule.preferred(*models.front())) {
        auto load = firmware::parse_load_name(stone, catalog);
        if (!load) fail(fmt::format("prefer: {}", load.error()));
        if (load->family != family)
          fail(fmt::format("prefer: {} is a load of {}, not of {}", stone, load->family, family));
        if (rule.stones && !rule.stones->matches(load.value()))
          fail(fmt::format("prefer: {} is not in the via class '{}'", stone, rule.stones->text));
      }
    }

    rule.source = record->at("source");
    if (rule.source.empty() || rule.source == "-") fail("every rule names its source");
    const auto& confidence = record->at("confidence");
    if (confidence == "uncertain")
      rule.uncertain = true;
    else if (confidence != "sure")
      fail(fmt::format("confidence '{}' must be sure or uncertain", confidence));
    rule.note = record->at("note");
    set.rules_.push_back(std::move(rule));
  }
  return set;
}

RuleSet RuleSet::load(const std::filesystem::path& file, const firmware::ModelCatalog& catalog) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open the rules file {}", file.string()));
  auto set = parse(in, file.string(), catalog);
  set.source = file.string();
  return set;
}

RuleSet RuleSet::load_default(const firmware::ModelCatalog& catalog) {
  return load(data_file("upgrade-rules"), catalog);
}

std::vector<const Rule*> RuleSet::for_family(std::string_view family) const {
  std::vector<const Rule*> out;
  for (const auto& rule : rules_)
    if (rule.applies_to(family)) out.push_back(&rule);
  return out;
}

void RuleSet::require_jump_rules(std::string_view family) const {
  const auto mine = for_family(family);
  const bool speaks = std::any_of(mine.begin(), mine.end(),
                                  [](const Rule* rule) { return rule->kind != RuleKind::needs; });
  if (speaks) return;
  const auto file = source.empty() ? std::string("the rules") : source;
  if (rules_.empty())
    throw Error(fmt::format("{} holds no rules: without rules no jump can be vouched for, so "
                            "nothing is planned",
                            file));
  throw Error(fmt::format("no rule in {} speaks about the jumps between {} loads: without one no "
                          "jump can be vouched for, so nothing is planned (add the family's rules, "
                          "with their source)",
                          file, family));
}

EdgeVerdict judge_jump(const std::vector<const Rule*>& rules, const LoadName& from,
                       const LoadName& to) {
  EdgeVerdict verdict;
  const Rule* never = nullptr;
  for (const auto* rule : rules) {
    if (rule->kind == RuleKind::needs || !rule->matches(from, to)) continue;
    if (rule->kind == RuleKind::never && (never == nullptr)) never = rule;
    if (rule->kind == RuleKind::forbid && verdict.forbidden_by == nullptr) verdict.forbidden_by = rule;
    if (rule->kind == RuleKind::allow && verdict.allowed_by == nullptr) verdict.allowed_by = rule;
  }
  if (never != nullptr) {
    verdict.forbidden_by = never;
    verdict.allowed_by = nullptr;
    verdict.allowed = false;
    return verdict;
  }
  verdict.allowed = verdict.forbidden_by == nullptr || verdict.allowed_by != nullptr;
  return verdict;
}

}  // namespace cf::upgrade
