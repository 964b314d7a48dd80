#pragma once
// The .loads / termNN.default.loads payload (reference cisco-79xx.md 1.4,
// tests/fixtures/README.md): a signature header, then text naming the
// component files a load needs. Names are returned exactly as written.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cf/cli/result.hpp"

namespace cf::firmware {

// True for a token of [A-Za-z0-9_.-]+ ending in .sbn/.SBN/.loads/.bin/.sb2/
// .zz.sgn/.sgn (ref 1.4), i.e. something a .loads file may name.
bool is_component_name(std::string_view token);

// The component names after the signature header (or, with no readable
// header, in the whole file), in order, duplicates dropped. Fails if none.
Result<std::vector<std::string>> parse_loads_file(std::span<const std::byte> file);

// "term41.default.loads" and friends: a recovery load (ref 1.4).
bool is_recovery_loads_name(std::string_view file_name);

}  // namespace cf::firmware
