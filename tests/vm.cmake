# End-to-end tests that boot the guest under TCG (label vm). They need the guest image, which
# the default build makes (target guest_image); BURETTE_IMAGE_DIR points them at it.
function(burette_vm_program test program source)
  add_executable(${program} ${source})
  target_link_libraries(${program} PRIVATE burette_harness burette_e2e)
  add_dependencies(${program} guest_image)
  add_test(NAME ${test} COMMAND ${program})
  set_tests_properties(${test} PROPERTIES LABELS vm TIMEOUT 300
                       ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")
endfunction()

burette_vm_program(vm.e2e test_vm e2e/test_vm.c)
# its QEMU-as-another-user case needs root: skipped (77) otherwise
set_tests_properties(vm.e2e PROPERTIES SKIP_RETURN_CODE 77)

# run_main() for the boot test: cancellation by SIGTERM, bad input.
burette_vm_program(vm.run_boot test_run_boot e2e/test_run_boot.c)

add_test(NAME vm.run_boot_cli
         COMMAND ${CMAKE_COMMAND} -DBURETTE=$<TARGET_FILE:burette>
                 -DWORK=${CMAKE_CURRENT_BINARY_DIR}/run_boot_cli
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/e2e/run_boot_cli.cmake)
set_tests_properties(vm.run_boot_cli PROPERTIES LABELS vm TIMEOUT 300
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")

# Choosing the accelerator (no VM: a unit test).
burette_unit_test(accel unit/test_accel.c burette_harness)

# The harness's agent client against a scripted peer (no VM: a unit test).
burette_unit_test(agent_client unit/test_agent_client.c burette_harness)

# Child processes and cancellation (no VM: a unit test).
burette_unit_test(proc unit/test_proc.c burette_harness)
# its cases of a child started as another user need root: skipped (77) otherwise
set_tests_properties(unit.proc PROPERTIES SKIP_RETURN_CODE 77)

burette_unit_test(provenance unit/test_provenance.c burette_harness)

# A QEMU that aborts during the boot gets one more boot, and only one (stand-in QEMU script).
add_test(NAME vm.qemu_abort_retry COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/qemu_abort_retry.sh
                                          $<TARGET_FILE:burette>)
set_tests_properties(vm.qemu_abort_retry PROPERTIES LABELS vm TIMEOUT 300
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")
