# Installation and the Debian package (`cpack -G DEB` in the build directory).
#
# Everything burette needs at run time goes under <prefix>/lib/burette, laid out as the build
# tree is (bin/ beside guest/), because burette finds its guest image at <its directory>/../guest
# and consomme beside itself; <prefix>/bin holds symbolic links to the two programs. The
# package's library dependencies are read off the binaries (dpkg-shlibdeps); QEMU is declared by
# hand, iperf3's library comes with libiperf0 through shlibdeps.
install(TARGETS burette consomme RUNTIME DESTINATION lib/burette/bin)
install(FILES ${CMAKE_BINARY_DIR}/guest/vmlinuz ${CMAKE_BINARY_DIR}/guest/initramfs.cpio.gz
              ${CMAKE_BINARY_DIR}/guest/image.json
        DESTINATION lib/burette/guest)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/burette)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/scripts/nightly DESTINATION share/burette)
install(CODE [[
  foreach(prog burette consomme)
    set(link "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/bin/${prog}")
    file(MAKE_DIRECTORY "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/bin")
    file(CREATE_LINK "../lib/burette/bin/${prog}" "${link}" SYMBOLIC)
  endforeach()
]])

set(CPACK_PACKAGE_NAME burette)
set(CPACK_PACKAGE_VENDOR "burette")
set(CPACK_PACKAGE_CONTACT "burette maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "network throughput benchmark harness for virtual machines")
set(CPACK_PACKAGE_INSTALL_DIRECTORY burette)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qemu-system-x86")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "passt")
set(CPACK_GENERATOR DEB)
include(CPack)
