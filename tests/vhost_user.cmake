# consomme over vhost-user as a burette backend, and the QEMU it needs: finding QEMU and its
# version (unit), the --transport/--qemu command line with a fake old QEMU (no guest booted).
burette_unit_test(qemu unit/test_qemu.c burette_harness)

if(PYTHON3)
  add_test(NAME cli.vhost_user COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/vhost_user_cli.sh
                                       $<TARGET_FILE:burette>)
  set_tests_properties(cli.vhost_user PROPERTIES LABELS unit)
endif()

# consomme over vhost-user end to end under TCG: two iterations of 2 s per sub-test (one boot).
if(TARGET guest_image)
  # the same test program as vm.network_consomme, over the other transport
  burette_vm_test(vm.network_vhost_user 300 test_network_consomme $<TARGET_FILE:burette> vhost-user)
endif()

# 256 MiB each way through consomme over vhost-user, SHA-256 checked, with the guest's offloads
# on (then a virtio_net reload, then QEMU killed mid-transfer) and off: two boots.
if(TARGET guest_image)
  add_executable(test_vhost_user_transfer e2e/test_vhost_user_transfer.c)
  target_link_libraries(test_vhost_user_transfer PRIVATE burette_harness burette_e2e
                        PkgConfig::LIBCRYPTO)
  add_dependencies(test_vhost_user_transfer consomme guest_image)
  burette_vm_test(vm.vhost_user_transfer 900 test_vhost_user_transfer)
endif()
