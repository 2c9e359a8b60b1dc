# End-to-end tests that boot the guest under TCG (label vm). They need the guest image, which
# the default build makes (target guest_image); BURETTE_IMAGE_DIR points them at it.
add_executable(test_vm e2e/test_vm.c)
target_link_libraries(test_vm PRIVATE burette_harness PkgConfig::CMOCKA)
add_dependencies(test_vm guest_image)
add_test(NAME vm.e2e COMMAND test_vm)
set_tests_properties(vm.e2e PROPERTIES LABELS vm TIMEOUT 300
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")

# run_main() for the boot test: cancellation by SIGTERM, bad input.
add_executable(test_run_boot e2e/test_run_boot.c)
target_link_libraries(test_run_boot PRIVATE burette_harness PkgConfig::CMOCKA)
add_dependencies(test_run_boot guest_image)
add_test(NAME vm.run_boot COMMAND test_run_boot)
set_tests_properties(vm.run_boot PROPERTIES LABELS vm TIMEOUT 300
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")

add_test(NAME vm.run_boot_cli
         COMMAND ${CMAKE_COMMAND} -DBURETTE=$<TARGET_FILE:burette>
                 -DWORK=${CMAKE_CURRENT_BINARY_DIR}/run_boot_cli
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/e2e/run_boot_cli.cmake)
set_tests_properties(vm.run_boot_cli PROPERTIES LABELS vm TIMEOUT 300
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")

# Choosing the accelerator (no VM: a unit test).
add_executable(test_accel unit/test_accel.c)
target_link_libraries(test_accel PRIVATE burette_harness PkgConfig::CMOCKA)
add_test(NAME unit.accel COMMAND test_accel)
set_tests_properties(unit.accel PROPERTIES LABELS unit)

# The harness's agent client against a scripted peer (no VM: a unit test).
add_executable(test_agent_client unit/test_agent_client.c)
target_link_libraries(test_agent_client PRIVATE burette_harness PkgConfig::CMOCKA)
add_test(NAME unit.agent_client COMMAND test_agent_client)
set_tests_properties(unit.agent_client PROPERTIES LABELS unit)

# Child processes and cancellation (no VM: a unit test).
add_executable(test_proc unit/test_proc.c)
target_link_libraries(test_proc PRIVATE burette_harness PkgConfig::CMOCKA)
add_test(NAME unit.proc COMMAND test_proc)
set_tests_properties(unit.proc PROPERTIES LABELS unit)

add_executable(test_provenance unit/test_provenance.c)
target_link_libraries(test_provenance PRIVATE burette_harness PkgConfig::CMOCKA)
add_test(NAME unit.provenance COMMAND test_provenance)
set_tests_properties(unit.provenance PROPERTIES LABELS unit)
