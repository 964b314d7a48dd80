# The Debian package: `cmake --workflow --preset package` (CMakePresets.json)
# configures a Release build for /usr, builds it and runs CPack, giving
# build-package/ciscoflash_VERSION_ARCH.deb. packaging/README.md says what goes
# in and why; tests/package/deb.sh checks it end to end.
set(CF_PACKAGE_MAINTAINER "Seed 800ef922 maintainers <maintainers@users.noreply.r-seed-800ef922.example>"
    CACHE STRING "Maintainer field of the .deb (name <address>)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ciscoflash)
set(CPACK_PACKAGE_VENDOR "The ciscoflash developers")
set(CPACK_PACKAGE_CONTACT "${CF_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "migrate Cisco 79xx IP phones from SCCP to SIP firmware")
set(CPACK_PACKAGE_DESCRIPTION "\
ciscoflash moves a fleet of Cisco 7940/7960, 7941/7961, 7942/7962, 7945/7965
and 7970/7971 IP phones from SCCP to SIP firmware from a plain Linux box,
stepping each phone through the intermediate loads it needs.
.
It contains a DHCP server that hands out option 150 and reads the phones'
CDP and LLDP-MED announcements (cisco-dhcpd), a TFTP server that tracks
what each phone fetched (cisco-tftpd), a firmware unpacker that installs
only complete loads (fwunpack), a writer of the phones' configuration files
and the matching Asterisk and Kamailio settings (cnfgen), an upgrade
planner (upgrade-path) and the resumable staged migration (sccp-to-sip).
ciscoflash-demo rehearses the whole migration on simulated phones in
network namespaces.")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from the binaries (dpkg-shlibdeps); the commands the
# scripts run are named here: sccp-to-sip reads the daemons' events with jq, the
# phone simulator and make-firmware are Python 3; ciscoflash-demo's lab needs ip
# (iproute2) and column (bsdextrautils), and uses Kamailio as the phones'
# registrar when it is installed.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "jq, python3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "iproute2, bsdextrautils")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "kamailio")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/conffiles"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/debian/prerm"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# A package of the build type at hand would ship unoptimised or debug binaries:
# cpack refuses anything but Release (checked in packaging/CPackProject.cmake).
set(CPACK_CF_BUILD_TYPE "${CMAKE_BUILD_TYPE}")
set(CPACK_CF_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_PROJECT_CONFIG_FILE "${PROJECT_SOURCE_DIR}/packaging/CPackProject.cmake")
include(CPack)
