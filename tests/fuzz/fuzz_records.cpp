// Record streams (manifests, plans) are read from pipes and files: any bytes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "cf/cli/records.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  cf::cli::RecordReader reader(in, "fuzz", {"load"});
  try {
    while (auto record = reader.next())
      if (record->at("load").size() > size) __builtin_trap();
  } catch (const cf::cli::RecordError&) {
  }
  return 0;
}
