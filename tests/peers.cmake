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
burette_e2e_program(test_network_mtu_peers e2e/test_network_mtu_peers.c burette guest_image)
foreach(backend passt tap)
  burette_vm_test(vm.network_mtu_${backend} 300 test_network_mtu_peers $<TARGET_FILE:burette>
                  ${backend})
  set_tests_properties(vm.network_mtu_${backend} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
