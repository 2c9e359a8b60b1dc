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
set_tests_properties(integration.helper_tap PROPERTIES LABELS integration TIMEOUT 120
                     SKIP_RETURN_CODE 77)

# What a user sees when the helper cannot set up: burette's own CLI, no VM booted.
burette_e2e_program(test_helper_cli integration/test_helper_cli.c burette guest_image)
add_test(NAME integration.helper_cli COMMAND test_helper_cli $<TARGET_FILE:burette>)
set_tests_properties(integration.helper_cli PROPERTIES LABELS integration TIMEOUT 120
                     SKIP_RETURN_CODE 77
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")

# The helper's sandbox: /proc/PID/status of the live helper and its job, and a forbidden
# syscall's death as burette reports it.
add_executable(test_helper_sandbox integration/test_helper_sandbox.c)
target_link_libraries(test_helper_sandbox PRIVATE burette_harness burette_helper PkgConfig::CMOCKA)
add_test(NAME integration.helper_sandbox COMMAND test_helper_sandbox)
set_tests_properties(integration.helper_sandbox PROPERTIES LABELS integration TIMEOUT 120
                     SKIP_RETURN_CODE 77)
