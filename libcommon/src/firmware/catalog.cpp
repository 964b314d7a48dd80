#include "cf/firmware/catalog.hpp"
#include "cf/cli/text.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "cf/cli/data_dir.hpp"
#include "cf/cli/error.hpp"
#include "cf/cli/records.hpp"

namespace cf::firmware {
namespace {

int parse_int(const cli::Record& record, const char* column, const std::string& source) {
  const auto& text = record.at(column);
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0)
    throw cli::RecordError(source, record.line,
                           fmt::format("{} '{}' is not a non-negative integer", column, text));
  return value;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  if (text == "-" || text.empty()) return items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::string normalise_model_name(std::string_view name) {
  std::string text = to_upper(name);
  if (text.starts_with("CP-")) text.erase(0, 3);
  // "7960G" and "7960" are the same model; "7941G-GE" keeps its suffix.
  if (text.size() == 5 && text.back() == 'G') text.pop_back();
  return text;
}

ModelCatalog ModelCatalog::parse(std::istream& in, const std::string& source_name) {
  static const std::vector<std::string> columns{"model",  "device_type", "family",
                                                "platform", "term_files", "vendor_class",
                                                "lines",  "bundle",      "source"};
  cli::RecordReader reader(in, source_name, columns);
  ModelCatalog catalog;
  std::set<std::string> seen;
  while (auto record = reader.next()) {
    ModelInfo info;
    info.model = record->at("model");
    info.device_type = parse_int(*record, "device_type", source_name);
    info.family = record->at("family");
    info.platform = record->at("platform");
    info.term_files = split_list(record->at("term_files"));
    info.vendor_class = record->at("vendor_class") == "-" ? "" : record->at("vendor_class");
    info.lines = parse_int(*record, "lines", source_name);
    info.bundle = record->at("bundle");
    info.source = record->at("source");
    if (info.model.empty() || info.family.empty() || info.platform.empty())
      throw cli::RecordError(source_name, record->line, "model, family and platform are required");
    if (!seen.insert(normalise_model_name(info.model)).second)
      throw cli::RecordError(source_name, record->line,
                             fmt::format("model {} is listed twice", info.model));
    catalog.models_.push_back(std::move(info));
  }
  if (catalog.models_.empty()) throw Error(source_name + ": the model catalog lists no models");
  return catalog;
}

ModelCatalog ModelCatalog::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error("cannot open the model catalog " + file.string());
  return parse(in, file.string());
}

ModelCatalog ModelCatalog::load_default() { return load(data_file("models.tsv")); }

const ModelInfo* ModelCatalog::find_model(std::string_view name) const {
  const auto wanted = normalise_model_name(name);
  for (const auto& info : models_)
    if (normalise_model_name(info.model) == wanted) return &info;
  return nullptr;
}

const ModelInfo* ModelCatalog::find_by_vendor_class(std::string_view vendor_class) const {
  while (!vendor_class.empty() && (vendor_class.back() == '\0' || vendor_class.back() == ' '))
    vendor_class.remove_suffix(1);
  const ModelInfo* best = nullptr;
  for (const auto& info : models_) {
    if (info.vendor_class.empty() || !iequals(info.vendor_class, vendor_class)) continue;
    best = &info;
  }
  if (best != nullptr) return best;
  // Not an exact row: take the last word ("CP-7962G", "7912") as a model name.
  const auto space = vendor_class.rfind(' ');
  if (space == std::string_view::npos || !iequals(vendor_class.substr(0, 6), "Cisco ")) return nullptr;
  return find_model(vendor_class.substr(space + 1));
}

std::vector<const ModelInfo*> ModelCatalog::family_models(std::string_view family) const {
  std::vector<const ModelInfo*> out;
  for (const auto& info : models_)
    if (info.family == family) out.push_back(&info);
  return out;
}

std::optional<std::string> ModelCatalog::family_of_platform(std::string_view platform) const {
  for (const auto& info : models_)
    if (info.platform == platform) return info.family;
  return std::nullopt;
}

const ModelInfo* ModelCatalog::find_by_term_file(std::string_view file) const {
  for (const auto& info : models_)
    for (const auto& term : info.term_files)
      if (iequals(term, file)) return &info;
  return nullptr;
}

std::vector<std::string> ModelCatalog::families() const {
  std::vector<std::string> out;
  for (const auto& info : models_)
    if (std::find(out.begin(), out.end(), info.family) == out.end()) out.push_back(info.family);
  return out;
}

}  // namespace cf::firmware
