# Tests of the namespace helper: RPC framing (unit) and the real helper process creating its
# namespace, tap0 and libiperf servers without a VM (integration).
add_executable(test_rpc unit/test_rpc.c)
target_link_libraries(test_rpc PRIVATE burette_helper PkgConfig::CMOCKA)
add_test(NAME unit.rpc COMMAND test_rpc)
set_tests_properties(unit.rpc PROPERTIES LABELS unit TIMEOUT 60)

add_executable(test_helper_tap integration/test_helper_tap.c)
target_link_libraries(test_helper_tap PRIVATE burette_harness burette_helper PkgConfig::CMOCKA)
add_test(NAME integration.helper_tap COMMAND test_helper_tap)
# Several cases bind port 5201, each in its own helper namespace, so parallel runs never clash.
set_tests_properties(integration.helper_tap PROPERTIES LABELS integration TIMEOUT 120)
