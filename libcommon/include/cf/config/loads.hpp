#pragma once
// Which load each phone family is told to run: gathered from fwunpack's manifest
// (DESIGN "Contracts": #load protocol family models version dir files bytes, TSV
// or JSON Lines) and from --load MODEL=LOAD, then one chosen per family.
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"

namespace cf::config {

struct LoadChoice {
  firmware::LoadName load;
  std::string origin;  // "stdin:3", "--load 7960=P0S3-8-12-00": where it came from
};

class LoadSelection {
 public:
  explicit LoadSelection(const firmware::ModelCatalog& catalog) : catalog_(&catalog) {}

  // Reads manifest records; application loads become candidates for their family,
  // loader and recovery loads (P003-x-y-zz, termNN.default) are skipped. Throws
  // cf::Error naming the line of a record whose load name is not understood.
  void add_manifest(std::istream& in, const std::string& source);
  // "7960=P0S3-8-12-00" or "7940-7960=P0S3-8-12-00"; the load's family must be the
  // model's. Explicit loads win over the manifest for their family (a model given
  // alone pins the load for that model only). Throws cf::UsageError.
  void add_explicit(const std::string& spec);

  // Picks per family: the explicit load, else the newest (cf::firmware::Version)
  // manifest load of `protocol`; without a protocol a family whose manifest loads
  // differ in protocol is an error asking for --protocol. Families left without a
  // load are returned in `skipped` with the reason.
  struct Skipped {
    std::string family;
    std::string reason;
  };
  std::vector<Skipped> choose(std::optional<firmware::Protocol> protocol);

  // After choose(): the load a model runs, or nullptr.
  const LoadChoice* for_model(const std::string& model) const;
  // Every chosen load once, in catalog order of the first model using it.
  std::vector<const LoadChoice*> chosen_loads() const;
  bool empty() const noexcept { return candidates_.empty() && explicit_.empty(); }

 private:
  const firmware::ModelCatalog* catalog_;
  std::map<std::string, std::vector<LoadChoice>> candidates_;  // family -> manifest loads
  std::map<std::string, LoadChoice> explicit_;                 // model -> --load
  std::map<std::string, LoadChoice> chosen_;                   // model -> load
};

}  // namespace cf::config
