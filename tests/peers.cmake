# End-to-end tests of the peer backends and of --perf-dir (label vm), each group its own ctest
# test so they can run side by side. Short settings (2 iterations of 2 s sub-tests, 5 s for passt, whose
# runs are checked for stalls; no warmup):
# about 40 s per guest boot under TCG on a 2-core machine; the error cases boot nothing.
burette_e2e_program(test_network_slirp_passt e2e/test_network_slirp_passt.c burette guest_image)
foreach(group slirp passt perf)
  burette_vm_test(vm.network_${group} 400 test_network_slirp_passt $<TARGET_FILE:burette> ${group})
  set_tests_properties(vm.network_${group} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()

# --mtu 9000 on passt and on tap: one guest, 1 iteration of three 1-s sub-tests, about 30 s
# each under TCG; the guest's TCP MSS in iperf3's reports proves the MTU reached it.
add_executable(test_network_mtu_peers e2e/test_network_mtu_peers.c)
target_link_libraries(test_network_mtu_peers PRIVATE burette_e2e)
add_dependencies(test_network_mtu_peers burette guest_image)
foreach(backend passt tap)
  add_test(NAME vm.network_mtu_${backend}
           COMMAND test_network_mtu_peers $<TARGET_FILE:burette> ${backend})
  set_tests_properties(vm.network_mtu_${backend} PROPERTIES LABELS vm TIMEOUT 300
                       SKIP_RETURN_CODE 77
                       ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")
endforeach()
