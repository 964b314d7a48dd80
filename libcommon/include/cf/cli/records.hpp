#pragma once
// The record streams that connect the tools (DESIGN "Contracts"): one record a
// line, tab-separated under a `#name<TAB>name...` header, or the same records as
// JSON Lines objects with --json. The reader takes either form, finds columns by
// name (extra columns are ignored, so a contract can grow) and rejects a bad
// line with its line number. Lines that start with "# " are comments.
#include <cstddef>
#include <fstream>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cf/cli/error.hpp"

namespace cf::cli {

enum class RecordFormat { tsv, json_lines };

struct Column {
  enum class Kind { text, integer };
  std::string name;
  Kind kind = Kind::text;
};
using Schema = std::vector<Column>;

class RecordWriter {
 public:
  // Writes the TSV header at once, so an empty result still names its columns.
  RecordWriter(std::ostream& out, RecordFormat format, Schema schema);
  // One value per column, in schema order. Throws cf::Error for a wrong count,
  // a TAB/CR/LF inside a value, or a non-numeric value in an integer column.
  void write(const std::vector<std::string>& values);
  const Schema& schema() const noexcept { return schema_; }

 private:
  std::ostream* out_;
  RecordFormat format_;
  Schema schema_;
};

struct Record {
  std::size_t line = 0;
  std::map<std::string, std::string, std::less<>> values;
  // The value of a column the reader was told is required; throws otherwise.
  const std::string& at(std::string_view column) const;
  std::optional<std::string_view> find(std::string_view column) const;
};

struct RecordError : Error {
  RecordError(const std::string& source, std::size_t line, const std::string& reason);
  std::size_t line;
};

class RecordReader {
 public:
  // `source` names the input in messages (a path, or "stdin").
  RecordReader(std::istream& in, std::string source, std::vector<std::string> required_columns);
  // The next record, or nullopt at the end; throws RecordError on a bad line.
  std::optional<Record> next();
  std::optional<RecordFormat> format() const noexcept { return format_; }
  // Reads every remaining record.
  std::vector<Record> read_all();

 private:
  std::optional<Record> parse_tsv(std::string_view line);
  std::optional<Record> parse_json(std::string_view line);
  [[noreturn]] void fail(const std::string& reason) const;

  std::istream* in_;
  std::string source_;
  std::vector<std::string> required_;
  std::optional<RecordFormat> format_;
  std::vector<std::string> header_;
  std::size_t line_number_ = 0;
};

// `-` is stdin/stdout; anything else is a file, opened or a cf::Error naming it.
class Input {
 public:
  explicit Input(const std::string& path);
  std::istream& stream() noexcept { return *stream_; }
  const std::string& name() const noexcept { return name_; }

 private:
  std::ifstream file_;
  std::istream* stream_;
  std::string name_;
};

class Output {
 public:
  explicit Output(const std::string& path);
  std::ostream& stream() noexcept { return *stream_; }
  const std::string& name() const noexcept { return name_; }
  // Flushes and throws cf::Error if anything failed to be written.
  void close();

 private:
  std::ofstream file_;
  std::ostream* stream_;
  std::string name_;
};

}  // namespace cf::cli
