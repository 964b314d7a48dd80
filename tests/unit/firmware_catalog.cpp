#include <sstream>

#include <doctest/doctest.h>

#include "cf/cli/error.hpp"
#include "cf/firmware/catalog.hpp"

using namespace cf::firmware;

TEST_CASE("the shipped catalog knows every 79xx model of the reference") {
  const auto catalog = ModelCatalog::load_default();
  const struct {
    const char* model;
    int id;
    const char* family;
  } expected[] = {{"7940", 8, "7940-7960"},   {"7960", 7, "7940-7960"},  {"7941", 115, "7941-7961"},
                  {"7961", 30018, "7941-7961"}, {"7942", 434, "7942-7962"}, {"7962", 404, "7942-7962"},
                  {"7945", 435, "7945-7965"},   {"7965", 436, "7945-7965"}, {"7970", 30006, "7970-7971"},
                  {"7971", 119, "7970-7971"},   {"7975", 437, "7975"},      {"7911", 307, "7911-7906"},
                  {"7906", 369, "7911-7906"},   {"7941G-GE", 309, "7941-7961"}};
  for (const auto& e : expected) {
    CAPTURE(e.model);
    const auto* info = catalog.find_model(e.model);
    REQUIRE(info != nullptr);
    CHECK(info->device_type == e.id);
    CHECK(info->family == e.family);
    CHECK_FALSE(info->source.empty());
  }
  CHECK(catalog.find_model("CP-7960G")->model == "7960");
  CHECK(catalog.find_model("7965g")->model == "7965");
  CHECK(catalog.find_model("8861") == nullptr);
  CHECK(catalog.family_models("7941-7961").size() == 4);
  CHECK(catalog.family_of_platform("45") == "7945-7965");
  CHECK_FALSE(catalog.family_of_platform("99"));
  CHECK(catalog.find_by_term_file("term65.default.loads")->model == "7965");
}

TEST_CASE("vendor classes name the model, with or without the trailing NUL") {
  const auto catalog = ModelCatalog::load_default();
  using namespace std::string_literals;
  CHECK(catalog.find_by_vendor_class("Cisco Systems, Inc. IP Phone CP-7960G\0"s)->model == "7960");
  CHECK(catalog.find_by_vendor_class("Cisco Systems, Inc. IP Phone CP-7941G-GE")->model ==
        "7941G-GE");
  CHECK(catalog.find_by_vendor_class("Cisco Systems, Inc. IP Phone 7912")->model == "7912");
  CHECK(catalog.find_by_vendor_class("Cisco Systems, Inc. IP Phone\0"s) == nullptr);
  CHECK(catalog.find_by_vendor_class("MSFT 5.0") == nullptr);
}

TEST_CASE("a malformed catalog row is reported with its line number") {
  const auto error_of = [](const std::string& text) {
    std::istringstream in(text);
    try {
      ModelCatalog::parse(in, "models.tsv");
    } catch (const cf::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string header =
      "# comment\n#model\tdevice_type\tfamily\tplatform\tterm_files\tvendor_class\tlines\tbundle\tsource\n";
  CHECK(error_of(header + "7960\tseven\t7940-7960\t03\t-\t-\t6\tb\ts\n") ==
        "models.tsv:3: device_type 'seven' is not a non-negative integer");
  CHECK(error_of(header + "7960\t7\t7940-7960\t03\t-\t-\t6\tb\n") ==
        "models.tsv:3: expected 9 tab-separated fields, found 8");
  CHECK(error_of(header + "7960\t7\tf\t03\t-\t-\t6\tb\ts\n7960G\t7\tf\t03\t-\t-\t6\tb\ts\n") ==
        "models.tsv:4: model 7960G is listed twice");
  CHECK(error_of(header) == "models.tsv: the model catalog lists no models");
}
