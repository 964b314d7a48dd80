#pragma once
// What the upgrade unit tests share: the shipped model catalog and rules, and
// load names parsed with a test failure (not an exception) when they do not parse.
#include <string_view>

#include <doctest/doctest.h>

#include "cf/firmware/catalog.hpp"
#include "cf/firmware/load_name.hpp"
#include "cf/upgrade/rules.hpp"

namespace cf::upgrade::test {

inline const firmware::ModelCatalog& catalog() {
  static const firmware::ModelCatalog instance = firmware::ModelCatalog::load_default();
  return instance;
}

inline const RuleSet& rules() {
  static const RuleSet instance = RuleSet::load_default(catalog());
  return instance;
}

inline LoadName load(std::string_view name) {
  auto parsed = firmware::parse_load_name(name, catalog());
  INFO(parsed.error());
  REQUIRE(parsed.ok());
  return parsed.value();
}

}  // namespace cf::upgrade::test
