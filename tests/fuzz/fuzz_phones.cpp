// The admin's input to cnfgen: the --phones TSV (any bytes, from a file or a pipe),
// dial patterns and an own dialplan.xml. Whatever is accepted must be safe to write:
// every accepted field passes its check again, and the files built from it hold no
// line break a value smuggled in.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "cf/cli/error.hpp"
#include "cf/config/phone.hpp"
#include "cf/config/writers.hpp"
#include "cf/firmware/catalog.hpp"

namespace {

const cf::firmware::ModelCatalog& catalog() {
  static const auto models = cf::firmware::ModelCatalog::load_default();
  return models;
}

std::size_t count(const std::string& text, char c) {
  std::size_t n = 0;
  for (const char x : text) n += x == c ? 1 : 0;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)cf::config::parse_mac(text);
  (void)cf::config::parse_dial_pattern(text);
  (void)cf::config::check_dialplan_xml(text);
  std::istringstream in(text);
  try {
    const auto phones = cf::config::read_phones(in, "fuzz", catalog());
    std::size_t lines = 0;
    for (const auto& phone : phones) {
      if (!cf::config::parse_mac(phone.mac)) __builtin_trap();
      for (const auto& line : phone.lines) {
        ++lines;
        if (!cf::config::check_extension(line.extension).empty()) __builtin_trap();
        if (!cf::config::check_display_name(line.display_name).empty()) __builtin_trap();
        if (line.secret.empty()) return 0;  // SCCP-only lines: no SIP files to check
      }
    }
    // One subscriber row per line key, plus the column line: no value added a line.
    const auto files = cf::config::kamailio_files("192.168.1.1", phones);
    if (count(files[1].content, '\n') != lines + 1) __builtin_trap();
  } catch (const cf::Error&) {
  }
  return 0;
}
