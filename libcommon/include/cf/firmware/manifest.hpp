#pragma once
// The fwunpack -> cnfgen manifest (DESIGN "Contracts"): one record per load,
// `#load protocol family models version dir files bytes`.
#include <cstdint>
#include <string>
#include <vector>

#include "cf/cli/records.hpp"
#include "cf/firmware/catalog.hpp"
#include "cf/firmware/completeness.hpp"

namespace cf::firmware {

struct ManifestRow {
  std::string load;      // "P00308000900", "term41.default" for a recovery load
  std::string protocol;  // "SCCP", "SIP", "-" when unknown
  std::string family;    // "7940-7960"
  std::string models;    // "7940,7960": model numbers of the family (recovery: of the term file)
  std::string version;   // "8.0(9)"
  std::string dir;       // the root the files are in, "-" for --list
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> values() const;
};

cli::Schema manifest_schema();

// The row of a complete load. For a recovery load (termNN.default), protocol and
// version are those of `points_to` (the application load whose components it
// lists), if known.
ManifestRow manifest_row(const LoadCheck& check, const ModelCatalog& catalog, const std::string& dir,
                         const LoadCheck* points_to = nullptr);

// The application load a recovery load (termNN.default) points to: the one
// whose component list is the same; nullptr if none.
const LoadCheck* recovery_target(const LoadCheck& recovery, const std::vector<LoadCheck>& loads);

}  // namespace cf::firmware
