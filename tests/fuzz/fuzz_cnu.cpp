// libFuzzer harness: the signature header, CNU archive and .sbn checks
// (cf/firmware/signed_file.hpp, cnu.hpp) on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cf/firmware/cnu.hpp"
#include "cf/firmware/signed_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  if (const auto header = cf::firmware::signature_header_length(bytes); header && *header > size)
    __builtin_trap();
  if (const auto cnu = cf::firmware::parse_cnu_archive(bytes); cnu && cnu->end > size) __builtin_trap();
  (void)cf::firmware::check_sbn(bytes);
  (void)cf::firmware::find_gzip_payload(bytes);
  return 0;
}
