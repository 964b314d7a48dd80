# What `cmake --install` and the .deb put where (prefix /usr for the package):
#   bin/                      the tools, sccp-to-sip, ciscoflash-demo
#   share/ciscoflash/         data/ (the tools and sccp-to-sip read it there)
#   share/ciscoflash/lab/     scripts/demo and scripts/lab, the phone simulator and
#                             make-firmware: what ciscoflash-demo runs
#   share/man/man1|8          gzipped (man/CMakeLists.txt)
#   share/bash-completion/completions/   one name per command
#   share/doc/ciscoflash/     copyright, changelog.gz
#   lib/systemd/system/       the daemons' units (/lib/systemd/system for /usr)
#   etc/ciscoflash/           their settings (/etc/ciscoflash for /usr)

install(DIRECTORY data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ciscoflash)
install(PROGRAMS scripts/sccp-to-sip packaging/ciscoflash-demo DESTINATION ${CMAKE_INSTALL_BINDIR})

set(CF_LAB_DESTINATION ${CMAKE_INSTALL_DATADIR}/ciscoflash/lab)
install(PROGRAMS scripts/demo scripts/lab tests/fixtures/make-firmware DESTINATION ${CF_LAB_DESTINATION})
# The simulator checks image signatures with fwsig.py and reads make-firmware's
# build table (phonesimlib/firmware.py looks for both beside phonesim/).
install(FILES tests/fixtures/fwsig.py DESTINATION ${CF_LAB_DESTINATION})
install(PROGRAMS tests/phonesim/phonesim DESTINATION ${CF_LAB_DESTINATION}/phonesim)
install(DIRECTORY tests/phonesim/phonesimlib DESTINATION ${CF_LAB_DESTINATION}/phonesim
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)

# bash-completion loads completions/NAME when NAME is first completed: one file
# serves every command, under each command's name.
set(CF_COMMANDS cisco-dhcpd cisco-tftpd cnfgen fwunpack upgrade-path sccp-to-sip ciscoflash-demo)
foreach(command IN LISTS CF_COMMANDS)
  install(FILES completions/ciscoflash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ${command})
endforeach()

# Debian policy 12.7: the changelog gzipped -9n, the copyright as it is.
find_program(CF_GZIP gzip REQUIRED)
file(STRINGS packaging/debian/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^ciscoflash \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "packaging/debian/changelog starts with '${changelog_head}': "
                      "add an entry for version ${PROJECT_VERSION} (the project() version)")
endif()
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/changelog.gz
  COMMAND ${CF_GZIP} -9n -c ${PROJECT_SOURCE_DIR}/packaging/debian/changelog > ${PROJECT_BINARY_DIR}/changelog.gz
  DEPENDS packaging/debian/changelog VERBATIM)
add_custom_target(cf_changelog ALL DEPENDS ${PROJECT_BINARY_DIR}/changelog.gz)
install(FILES packaging/debian/copyright ${PROJECT_BINARY_DIR}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The units name the binaries by absolute path and the settings live in /etc when
# the prefix is /usr (as GNUInstallDirs has it), else in PREFIX/etc: both decided
# at install time, so they follow `cmake --install --prefix` and CPack's staging
# prefix (which ends in /usr), never the configure-time prefix.
# (CPack installs with DESTDIR set, which file(INSTALL) adds by itself.)
install(CODE "
  if(CMAKE_INSTALL_PREFIX MATCHES \"^(.*)/usr/?\$\")
    set(system_root \"\${CMAKE_MATCH_1}\")
  else()
    set(system_root \"\${CMAKE_INSTALL_PREFIX}\")
  endif()
  set(CMAKE_INSTALL_FULL_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  foreach(unit cisco-dhcpd cisco-tftpd)
    configure_file(\"${PROJECT_SOURCE_DIR}/packaging/\${unit}.service.in\"
                   \"\$ENV{DESTDIR}\${system_root}/lib/systemd/system/\${unit}.service\" @ONLY)
    message(STATUS \"Installing: \$ENV{DESTDIR}\${system_root}/lib/systemd/system/\${unit}.service\")
    file(INSTALL \"${PROJECT_SOURCE_DIR}/packaging/\${unit}.conf\"
         DESTINATION \"\${system_root}/etc/ciscoflash\")
  endforeach()")
