# Tests of the network test's pieces: iperf3 JSON extraction (unit, from recorded real
# reports) and the whole `burette run --test network` on the TAP backend (vm).
add_executable(test_iperf_result unit/test_iperf_result.c)
target_link_libraries(test_iperf_result PRIVATE burette_harness PkgConfig::CMOCKA m)
add_test(NAME unit.iperf_result
         COMMAND test_iperf_result ${CMAKE_CURRENT_SOURCE_DIR}/data/iperf3)
set_tests_properties(unit.iperf_result PROPERTIES LABELS unit)

# The CPU accounting beside every throughput figure, on recorded /proc readings.
add_executable(test_cpu_cost unit/test_cpu_cost.c)
target_link_libraries(test_cpu_cost PRIVATE burette_harness PkgConfig::CMOCKA m)
add_test(NAME unit.cpu_cost COMMAND test_cpu_cost ${CMAKE_CURRENT_SOURCE_DIR}/data/cpu_cost)
set_tests_properties(unit.cpu_cost PROPERTIES LABELS unit)

# How a failed client in the guest is worded, with the host side's account (guest_net.h).
add_executable(test_guest_client unit/test_guest_client.c)
target_link_libraries(test_guest_client PRIVATE burette_harness PkgConfig::CMOCKA m)
add_test(NAME unit.guest_client COMMAND test_guest_client)
set_tests_properties(unit.guest_client PROPERTIES LABELS unit)

# End to end under TCG, short settings: 2 iterations of 3 sub-tests of 2 s, then runs struck
# mid-iteration (SIGINT; helper killed; iperf3 server killed), each booting a guest: about
# 90 s on a 2-core machine. The sanitizer build, slower, runs the report and SIGINT cases only.
burette_e2e_program(test_network_tap e2e/test_network_tap.c burette guest_image)
if(BURETTE_SANITIZE)
  set(NETWORK_TAP_CASES --basic)
endif()
burette_vm_test(vm.network_tap 400 test_network_tap $<TARGET_FILE:burette> ${NETWORK_TAP_CASES})
