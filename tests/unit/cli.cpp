#include <sstream>

#include <doctest/doctest.h>

#include "cf/cli/diagnostics.hpp"
#include "cf/cli/progress.hpp"
#include "cf/cli/records.hpp"

using namespace cf::cli;

namespace {
const Schema manifest_schema{{"load"}, {"protocol"}, {"bytes", Column::Kind::integer}};
}

TEST_CASE("diagnostics have the tool: error: form and colour only when asked") {
  CHECK(format_diagnostic("fwunpack", Severity::error, "no such file", false) ==
        "fwunpack: error: no such file");
  CHECK(format_diagnostic("fwunpack", Severity::warning, "x", false) == "fwunpack: warning: x");
  CHECK(format_diagnostic("t", Severity::error, "x", true).find("\033[") != std::string::npos);
  std::ostringstream out;
  Diagnostics(std::string("cnfgen"), out, false).note("hello");
  CHECK(out.str() == "cnfgen: note: hello\n");
}

TEST_CASE("progress bar draws nothing when disabled and a bounded bar when enabled") {
  std::ostringstream quiet;
  {
    ProgressBar bar(quiet, false, "x", 100);
    bar.update(50);
    bar.finish();
  }
  CHECK(quiet.str().empty());
  CHECK(ProgressBar::render("f", 50, 100, 10) == "f [#####-----]  50.0%");
  CHECK(ProgressBar::render("f", 500, 100, 4) == "f [####] 100.0%");
  CHECK(ProgressBar::render("f", 0, 0, 4) == "f [####] 100.0%");
  std::ostringstream tty;
  ProgressBar bar(tty, true, "f", 10, 4);
  bar.update(5);
  bar.update(5);  // same figure: no redraw
  bar.finish();
  CHECK(tty.str() == "\rf [##--]  50.0%\033[K\rf [####] 100.0%\033[K\n");
}

TEST_CASE("TSV records round trip through the reader") {
  std::stringstream stream;
  RecordWriter writer(stream, RecordFormat::tsv, manifest_schema);
  writer.write({"P00308000900", "SCCP", "1310720"});
  writer.write({"SIP41.9-4-2SR3-1S", "SIP", "0"});
  CHECK(stream.str() == "#load\tprotocol\tbytes\nP00308000900\tSCCP\t1310720\n"
                        "SIP41.9-4-2SR3-1S\tSIP\t0\n");
  RecordReader reader(stream, "manifest", {"load", "bytes"});
  const auto records = reader.read_all();
  REQUIRE(records.size() == 2);
  CHECK(reader.format() == RecordFormat::tsv);
  CHECK(records[0].at("load") == "P00308000900");
  CHECK(records[0].line == 2);
  CHECK(records[1].at("protocol") == "SIP");
  CHECK_FALSE(records[1].find("missing"));
}

TEST_CASE("JSON Lines records round trip and keep integers as numbers") {
  std::stringstream stream;
  RecordWriter writer(stream, RecordFormat::json_lines, manifest_schema);
  writer.write({"P0S3-8-12-00", "SIP", "42"});
  CHECK(stream.str() == "{\"load\":\"P0S3-8-12-00\",\"protocol\":\"SIP\",\"bytes\":42}\n");
  RecordReader reader(stream, "m", {"load"});
  auto record = reader.next();
  REQUIRE(record);
  CHECK(record->at("bytes") == "42");
  CHECK(reader.format() == RecordFormat::json_lines);
  CHECK_FALSE(reader.next());
}

TEST_CASE("the writer refuses values that would break the line format") {
  std::stringstream stream;
  RecordWriter writer(stream, RecordFormat::tsv, manifest_schema);
  CHECK_THROWS_AS(writer.write({"a\tb", "SIP", "1"}), cf::Error);
  CHECK_THROWS_AS(writer.write({"a\nb", "SIP", "1"}), cf::Error);
  CHECK_THROWS_AS(writer.write({"a", "SIP", "many"}), cf::Error);
  CHECK_THROWS_AS(writer.write({"a", "SIP"}), cf::Error);
}

TEST_CASE("bad lines are rejected with their line numbers") {
  auto error_of = [](const std::string& text, std::vector<std::string> required) {
    std::istringstream in(text);
    RecordReader reader(in, "m.tsv", std::move(required));
    try {
      reader.read_all();
    } catch (const RecordError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("#load\tbytes\nA\t1\nB\n", {}) ==
        "m.tsv:3: expected 2 tab-separated fields, found 1");
  CHECK(error_of("\n#load\n", {"bytes"}) == "m.tsv:2: header lacks the column 'bytes'");
  CHECK(error_of("A\t1\n", {}) == "m.tsv:1: expected a '#' header line or a JSON object");
  CHECK(error_of("{\"load\":\"A\"}\n{oops\n", {}) == "m.tsv:2: not a JSON object");
  CHECK(error_of("{\"load\":\"A\"}\n{\"x\":1}\n", {"load"}) == "m.tsv:2: missing the field 'load'");
  CHECK(error_of("#load\r\nA\r\n\n# comment\nB\n", {"load"}) == "no error");
}

#include "cf/cli/text.hpp"

TEST_CASE("ASCII case helpers") {
  CHECK(cf::to_lower("Jar41SIP.SBN") == "jar41sip.sbn");
  CHECK(cf::to_upper("cp-7960g") == "CP-7960G");
  CHECK(cf::iequals("term41.DEFAULT.loads", "TERM41.default.LOADS"));
  CHECK_FALSE(cf::iequals("term41", "term411"));
  CHECK(cf::istarts_with("TERM41.7-0-3-05", "term"));
  CHECK_FALSE(cf::istarts_with("TE", "term"));
}

TEST_CASE("printable: wire text cannot forge log lines or drive a terminal") {
  CHECK(cf::printable("SEP001122334455.cnf.xml") == "SEP001122334455.cnf.xml");
  CHECK(cf::printable("a\nb") == "a\\x0ab");
  CHECK(cf::printable("\x1b[2J") == "\\x1b[2J");
  CHECK(cf::printable("back\\slash") == "back\\x5cslash");
  CHECK(cf::printable("\xc3\xa9\x7f") == "\\xc3\\xa9\\x7f");
  CHECK(cf::printable(std::string_view("a\0b", 3)) == "a\\x00b");
  CHECK(cf::printable(std::string(1000, 'x'), 4) == "xxxx...(1000 bytes)");
  CHECK(cf::printable("") == "");
}
