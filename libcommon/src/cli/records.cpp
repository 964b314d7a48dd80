#include "cf/cli/records.hpp"

#include <algorithm>
#include <charconv>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cf::cli {
namespace {

bool is_integer(std::string_view text) {
  if (text.empty()) return false;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const auto tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return fields;
}

std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

RecordWriter::RecordWriter(std::ostream& out, RecordFormat format, Schema schema)
    : out_(&out), format_(format), schema_(std::move(schema)) {
  if (format_ != RecordFormat::tsv) return;
  *out_ << '#';
  for (std::size_t i = 0; i < schema_.size(); ++i) *out_ << (i ? "\t" : "") << schema_[i].name;
  *out_ << '\n';
}

void RecordWriter::write(const std::vector<std::string>& values) {
  if (values.size() != schema_.size())
    throw Error(fmt::format("record has {} values for {} columns", values.size(), schema_.size()));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto& value = values[i];
    if (schema_[i].kind == Column::Kind::integer && !is_integer(value))
      throw Error(fmt::format("column {}: '{}' is not an integer", schema_[i].name, value));
    if (format_ == RecordFormat::tsv && value.find_first_of("\t\r\n") != std::string::npos)
      throw Error(fmt::format("column {}: value contains a tab or line break", schema_[i].name));
  }
  if (format_ == RecordFormat::tsv) {
    for (std::size_t i = 0; i < values.size(); ++i) *out_ << (i ? "\t" : "") << values[i];
    *out_ << '\n';
    return;
  }
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (schema_[i].kind == Column::Kind::integer)
      object[schema_[i].name] = std::stoll(values[i]);
    else
      object[schema_[i].name] = values[i];
  }
  *out_ << object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
}

const std::string& Record::at(std::string_view column) const {
  const auto it = values.find(column);
  if (it == values.end()) throw Error(fmt::format("line {}: no column '{}'", line, column));
  return it->second;
}

std::optional<std::string_view> Record::find(std::string_view column) const {
  const auto it = values.find(column);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

RecordError::RecordError(const std::string& source, std::size_t line_number,
                         const std::string& reason)
    : Error(fmt::format("{}:{}: {}", source, line_number, reason)), line(line_number) {}

RecordReader::RecordReader(std::istream& in, std::string source,
                           std::vector<std::string> required_columns)
    : in_(&in), source_(std::move(source)), required_(std::move(required_columns)) {}

void RecordReader::fail(const std::string& reason) const {
  throw RecordError(source_, line_number_, reason);
}

std::optional<Record> RecordReader::next() {
  std::string buffer;
  while (std::getline(*in_, buffer)) {
    ++line_number_;
    const std::string_view line = strip_cr(buffer);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (line == "#" || line.starts_with("# ")) continue;  // a comment, not a header
    if (!format_) {
      if (line.front() == '{') {
        format_ = RecordFormat::json_lines;
      } else if (line.front() == '#') {
        format_ = RecordFormat::tsv;
        for (const auto field : split_tabs(line.substr(1))) header_.emplace_back(field);
        for (const auto& column : required_)
          if (std::find(header_.begin(), header_.end(), column) == header_.end())
            fail(fmt::format("header lacks the column '{}'", column));
        continue;
      } else {
        fail("expected a '#' header line or a JSON object");
      }
    }
    if (*format_ == RecordFormat::tsv) {
      if (line.front() == '#') continue;  // a repeated header or a comment
      return parse_tsv(line);
    }
    return parse_json(line);
  }
  if (in_->bad()) fail("read error");
  return std::nullopt;
}

std::optional<Record> RecordReader::parse_tsv(std::string_view line) {
  const auto fields = split_tabs(line);
  if (fields.size() != header_.size())
    fail(fmt::format("expected {} tab-separated fields, found {}", header_.size(), fields.size()));
  Record record;
  record.line = line_number_;
  for (std::size_t i = 0; i < fields.size(); ++i) record.values.emplace(header_[i], fields[i]);
  return record;
}

std::optional<Record> RecordReader::parse_json(std::string_view line) {
  const auto object = nlohmann::json::parse(line, nullptr, false);
  if (object.is_discarded() || !object.is_object()) fail("not a JSON object");
  Record record;
  record.line = line_number_;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string())
      record.values.emplace(key, value.get<std::string>());
    else if (value.is_number_integer())
      record.values.emplace(key, std::to_string(value.get<std::int64_t>()));
    else if (value.is_number_unsigned())
      record.values.emplace(key, std::to_string(value.get<std::uint64_t>()));
    else
      record.values.emplace(key, value.dump());
  }
  for (const auto& column : required_)
    if (!record.values.contains(column)) fail(fmt::format("missing the field '{}'", column));
  return record;
}

std::vector<Record> RecordReader::read_all() {
  std::vector<Record> records;
  while (auto record = next()) records.push_back(std::move(*record));
  return records;
}

Input::Input(const std::string& path) : stream_(&std::cin), name_("stdin") {
  if (path == "-") return;
  file_.open(path, std::ios::binary);
  if (!file_) throw Error(fmt::format("cannot open {} for reading", path));
  stream_ = &file_;
  name_ = path;
}

Output::Output(const std::string& path) : stream_(&std::cout), name_("stdout") {
  if (path == "-") return;
  file_.open(path, std::ios::binary | std::ios::trunc);
  if (!file_) throw Error(fmt::format("cannot open {} for writing", path));
  stream_ = &file_;
  name_ = path;
}

void Output::close() {
  stream_->flush();
  if (file_.is_open()) file_.close();
  if (!*stream_ || (stream_ == &file_ && file_.fail()))
    throw Error(fmt::format("writing {} failed", name_));
}

}  // namespace cf::cli
