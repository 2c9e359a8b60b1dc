# Tests of the network test's pieces: iperf3 JSON extraction (unit, from recorded real
# reports) and the whole `burette run --test network` on the TAP backend (vm).
add_executable(test_iperf_result unit/test_iperf_result.c)
target_link_libraries(test_iperf_result PRIVATE burette_harness PkgConfig::CMOCKA m)
add_test(NAME unit.iperf_result
         COMMAND test_iperf_result ${CMAKE_CURRENT_SOURCE_DIR}/data/iperf3)
set_tests_properties(unit.iperf_result PROPERTIES LABELS unit)
