# consomme over vhost-user as a burette backend, and the QEMU it needs: finding QEMU and its
# version (unit), the --transport/--qemu command line with a fake old QEMU (no guest booted).
add_executable(test_qemu unit/test_qemu.c)
target_link_libraries(test_qemu PRIVATE burette_harness PkgConfig::CMOCKA)
add_test(NAME unit.qemu COMMAND test_qemu)
set_tests_properties(unit.qemu PROPERTIES LABELS unit)

if(PYTHON3)
  add_test(NAME cli.vhost_user COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/vhost_user_cli.sh
                                       $<TARGET_FILE:burette>)
  set_tests_properties(cli.vhost_user PROPERTIES LABELS unit)
endif()
