# Every dependency is a Debian package; a missing one stops the configure step
# with the package to install, so nobody has to guess.
find_package(PkgConfig QUIET)

macro(cf_require_package found_var what debian_package)
  if(NOT ${found_var})
    message(FATAL_ERROR
      "${what} not found. Install it with: sudo apt-get install ${debian_package}\n"
      "(or run scripts/test, which installs every missing package)")
  endif()
endmacro()

if(NOT PkgConfig_FOUND)
  message(FATAL_ERROR "pkg-config not found. Install it with: sudo apt-get install pkg-config")
endif()

find_package(CLI11 CONFIG QUIET)
cf_require_package(CLI11_FOUND "CLI11" libcli11-dev)

find_package(fmt CONFIG QUIET)
cf_require_package(fmt_FOUND "fmt" libfmt-dev)

find_package(pugixml CONFIG QUIET)
cf_require_package(pugixml_FOUND "pugixml" libpugixml-dev)

find_package(nlohmann_json 3 CONFIG QUIET)
cf_require_package(nlohmann_json_FOUND "nlohmann-json" nlohmann-json3-dev)

pkg_check_modules(LIBARCHIVE QUIET IMPORTED_TARGET libarchive)
cf_require_package(LIBARCHIVE_FOUND "libarchive" libarchive-dev)

if(CF_TESTS)
  find_package(doctest CONFIG QUIET)
  cf_require_package(doctest_FOUND "doctest" doctest-dev)
endif()
