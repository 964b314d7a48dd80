#pragma once
// Where data/ (model catalog, upgrade rules) is found at run time:
// $CISCOFLASH_DATA if set (tests point it at the source tree), else
// <exe>/../share/ciscoflash, else the install prefix chosen at build time.
#include <filesystem>

namespace cf {

std::filesystem::path data_dir();
// data_dir() / name, or a cf::Error naming every place that was searched.
std::filesystem::path data_file(const std::filesystem::path& name);

}  // namespace cf
