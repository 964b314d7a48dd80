# Read by cpack before it packages (CPACK_PROJECT_CONFIG_FILE).
if(NOT CPACK_CF_BUILD_TYPE STREQUAL "Release")
  message(FATAL_ERROR "cpack: this build is '${CPACK_CF_BUILD_TYPE}', the package wants a "
                      "Release build: cmake --workflow --preset package (see packaging/README.md)")
endif()
if(NOT CPACK_CF_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "cpack: this build is configured for ${CPACK_CF_INSTALL_PREFIX}, the "
                      "package installs to /usr (the tools look for their data there): "
                      "cmake --workflow --preset package")
endif()
