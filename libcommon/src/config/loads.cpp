#include "cf/config/loads.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "cf/cli/error.hpp"
#include "cf/cli/records.hpp"

namespace cf::config {

void LoadSelection::add_manifest(std::istream& in, const std::string& source) {
  cli::RecordReader reader(in, source, {"load"});
  while (const auto record = reader.next()) {
    const auto name = record->at("load");
    const auto load = firmware::parse_load_name(name, *catalog_);
    if (!load) throw Error(fmt::format("{}:{}: {}", source, record->line, load.error()));
    if (load->kind != firmware::LoadKind::application) continue;
    // The manifest's own protocol column must agree with the name (reference 1.1).
    if (const auto protocol = record->find("protocol")) {
      const auto parsed = firmware::parse_protocol(*protocol);
      if (parsed && *parsed != load->protocol)
        throw Error(fmt::format("{}:{}: load {} is {} by its name, but the manifest says {}",
                                source, record->line, name, firmware::to_string(load->protocol),
                                *protocol));
    }
    auto& list = candidates_[load->family];
    const bool seen = std::any_of(list.begin(), list.end(),
                                  [&](const LoadChoice& c) { return c.load.name == load->name; });
    if (!seen) list.push_back(LoadChoice{*load, fmt::format("{}:{}", source, record->line)});
  }
}

void LoadSelection::add_explicit(const std::string& spec) {
  const auto equals = spec.find('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size())
    throw UsageError(fmt::format("--load '{}': expected MODEL=LOAD, e.g. 7960=P0S3-8-12-00 or "
                                 "7941-7961=SIP41.9-4-2SR3-1S",
                                 spec));
  const std::string target = spec.substr(0, equals);
  const auto load = firmware::parse_load_name(spec.substr(equals + 1), *catalog_);
  if (!load) throw UsageError(fmt::format("--load '{}': {}", spec, load.error()));
  if (load->kind != firmware::LoadKind::application)
    throw UsageError(fmt::format("--load '{}': {} is a {} load, not one a phone runs", spec,
                                 load->name, firmware::to_string(load->kind)));
  std::vector<const firmware::ModelInfo*> models = catalog_->family_models(target);
  if (models.empty()) {
    const auto* model = catalog_->find_model(target);
    if (model == nullptr)
      throw UsageError(fmt::format("--load '{}': '{}' is neither a model nor a family in the "
                                   "model catalog (families: {})",
                                   spec, target, fmt::join(catalog_->families(), ", ")));
    models.push_back(model);
  }
  for (const auto* model : models) {
    if (model->family != load->family)
      throw UsageError(fmt::format("--load '{}': {} is a load for the {} family; a {} is in {}",
                                   spec, load->name, load->family, model->model, model->family));
    explicit_[model->model] = LoadChoice{*load, "--load " + spec};
  }
}

std::vector<LoadSelection::Skipped> LoadSelection::choose(
    std::optional<firmware::Protocol> protocol) {
  chosen_.clear();
  std::vector<Skipped> skipped;
  for (const auto& family : catalog_->families()) {
    const auto found = candidates_.find(family);
    const LoadChoice* best = nullptr;
    std::string why_none;
    if (found != candidates_.end()) {
      std::set<std::string> protocols;
      for (const auto& c : found->second) protocols.insert(std::string(firmware::to_string(c.load.protocol)));
      if (!protocol && protocols.size() > 1) {
        std::vector<std::string> names;
        for (const auto& c : found->second) names.push_back(c.load.name);
        std::sort(names.begin(), names.end());
        const auto members = catalog_->family_models(family);
        const bool all_explicit =
            std::all_of(members.begin(), members.end(),
                        [&](const firmware::ModelInfo* m) { return explicit_.count(m->model) != 0; });
        if (!all_explicit)
          throw UsageError(fmt::format("the manifest has {} loads for the {} family ({}); choose "
                                       "one with --protocol sip|sccp or --load",
                                       fmt::join(protocols, " and "), family, fmt::join(names, ", ")));
      }
      for (const auto& c : found->second) {
        if (protocol && c.load.protocol != *protocol) continue;
        if (best == nullptr || best->load.version < c.load.version ||
            (best->load.version == c.load.version && best->load.name < c.load.name))
          best = &c;
      }
      if (best == nullptr)
        why_none = fmt::format("the manifest has no {} load for it (only {})",
                               firmware::to_string(*protocol), fmt::join(protocols, ", "));
    }
    bool any_model_without = false;
    for (const auto* model : catalog_->family_models(family)) {
      if (const auto e = explicit_.find(model->model); e != explicit_.end())
        chosen_[model->model] = e->second;
      else if (best != nullptr)
        chosen_[model->model] = *best;
      else
        any_model_without = true;
    }
    if (any_model_without && !why_none.empty()) skipped.push_back(Skipped{family, why_none});
  }
  return skipped;
}

const LoadChoice* LoadSelection::for_model(const std::string& model) const {
  const auto found = chosen_.find(model);
  return found == chosen_.end() ? nullptr : &found->second;
}

std::vector<const LoadChoice*> LoadSelection::chosen_loads() const {
  std::vector<const LoadChoice*> out;
  for (const auto& model : catalog_->models()) {
    const auto* choice = for_model(model.model);
    if (choice == nullptr) continue;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const LoadChoice* c) {
      return c->load.name == choice->load.name;
    });
    if (!seen) out.push_back(choice);
  }
  return out;
}

}  // namespace cf::config
