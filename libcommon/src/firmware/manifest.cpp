#include "cf/firmware/manifest.hpp"

#include <algorithm>

#include "cf/firmware/load_name.hpp"

namespace cf::firmware {
namespace {

// "7941G-GE" -> "7941": the manifest lists model numbers; variants share loads.
std::string model_number(const std::string& model) {
  const auto end = std::find_if(model.begin(), model.end(), [](char c) { return c < '0' || c > '9'; });
  return end == model.begin() ? model : std::string(model.begin(), end);
}

std::string join_models(const std::vector<const ModelInfo*>& models) {
  std::vector<std::string> numbers;
  for (const auto* info : models) {
    auto number = model_number(info->model);
    if (std::find(numbers.begin(), numbers.end(), number) == numbers.end()) numbers.push_back(number);
  }
  std::string out;
  for (const auto& number : numbers) out += (out.empty() ? "" : ",") + number;
  return out.empty() ? "-" : out;
}

}  // namespace

std::vector<std::string> ManifestRow::values() const {
  return {load, protocol, family, models, version, dir, std::to_string(files), std::to_string(bytes)};
}

cli::Schema manifest_schema() {
  using K = cli::Column::Kind;
  return {{"load", K::text},    {"protocol", K::text}, {"family", K::text}, {"models", K::text},
          {"version", K::text}, {"dir", K::text},      {"files", K::integer}, {"bytes", K::integer}};
}

ManifestRow manifest_row(const LoadCheck& check, const ModelCatalog& catalog, const std::string& dir,
                         const LoadCheck* points_to) {
  ManifestRow row{check.load, "-", "-", "-", "-", dir, check.files.size(), check.bytes};
  const auto name = parse_load_name(check.load, catalog);
  if (!name) return row;
  row.family = name->family;
  if (name->kind == LoadKind::recovery) {
    std::vector<const ModelInfo*> models;
    for (const auto& info : catalog.models())
      for (const auto& term : info.term_files)
        if (term == check.load + ".loads") models.push_back(&info);
    row.models = join_models(models);
    if (points_to != nullptr) {
      if (const auto target = parse_load_name(points_to->load, catalog)) {
        row.protocol = std::string(to_string(target->protocol));
        row.version = target->version.text.empty() ? "-" : target->version.text;
      }
    }
    return row;
  }
  row.protocol = std::string(to_string(name->protocol));
  row.models = join_models(catalog.family_models(name->family));
  row.version = name->version.text.empty() ? "-" : name->version.text;
  return row;
}

const LoadCheck* recovery_target(const LoadCheck& recovery, const std::vector<LoadCheck>& loads) {
  for (const auto& load : loads)
    if (load.load != recovery.load && load.files.size() == recovery.files.size() &&
        std::equal(load.files.begin() + 1, load.files.end(), recovery.files.begin() + 1))
      return &load;
  return nullptr;
}

}  // namespace cf::firmware
