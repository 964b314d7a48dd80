#pragma once
// The model catalog (data/models.tsv): for each phone model its device-type id
// (the N of <loadInformationN>), family, platform code, recovery files and DHCP
// vendor class. Knowledge about models is data, so a correction is an edit of
// the file, not of the code.
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cf::firmware {

struct ModelInfo {
  std::string model;                    // "7960", "7941G-GE"
  int device_type = 0;                  // loadInformationN
  std::string family;                   // "7940-7960": the models that share loads
  std::string platform;                 // "03", "41": the code in load and file names
  std::vector<std::string> term_files;  // recovery loads, e.g. term61.default.loads
  std::string vendor_class;             // DHCP option 60 without the trailing NUL
  int lines = 0;                        // line keys; 0 when unknown
  std::string bundle;                   // Cisco download prefix, e.g. cmterm-7941_7961
  std::string source;                   // where the row's facts come from
};

class ModelCatalog {
 public:
  // Throws cf::Error naming the file and line of a malformed row.
  static ModelCatalog parse(std::istream& in, const std::string& source_name);
  static ModelCatalog load(const std::filesystem::path& file);
  // data_file("models.tsv"), see cf/cli/data_dir.hpp.
  static ModelCatalog load_default();

  const std::vector<ModelInfo>& models() const noexcept { return models_; }
  // Accepts "7960", "7960G", "CP-7960G", "7941G-GE", any case.
  const ModelInfo* find_model(std::string_view name) const;
  // The model named in a DHCP vendor class (option 60), e.g.
  // "Cisco Systems, Inc. IP Phone CP-7960G" -> 7960; nullptr for none.
  const ModelInfo* find_by_vendor_class(std::string_view vendor_class) const;
  std::vector<const ModelInfo*> family_models(std::string_view family) const;
  std::optional<std::string> family_of_platform(std::string_view platform) const;
  // The model whose recovery file this is (term61.default.loads -> 7961).
  const ModelInfo* find_by_term_file(std::string_view file) const;
  std::vector<std::string> families() const;

 private:
  std::vector<ModelInfo> models_;
};

// The model number inside a vendor class or model spelling: "CP-7961G-GE" -> "7961G-GE".
std::string normalise_model_name(std::string_view name);

}  // namespace cf::firmware
