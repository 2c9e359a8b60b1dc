# End-to-end tests that boot the guest under TCG (label vm). They need the guest image, which
# the default build makes (target guest_image); burette_vm_test() points them at it.
function(burette_vm_program test program source)
  burette_e2e_program(${program} ${source} guest_image)
  target_link_libraries(${program} PRIVATE burette_harness)
  burette_vm_test(${test} 300 ${program})
endfunction()

burette_vm_program(vm.e2e test_vm e2e/test_vm.c)
# its QEMU-as-another-user case needs root: skipped (77) otherwise
set_tests_properties(vm.e2e PROPERTIES SKIP_RETURN_CODE 77)

# run_main() for the boot test: cancellation by SIGTERM, bad input.
burette_vm_program(vm.run_boot test_run_boot e2e/test_run_boot.c)

burette_vm_test(vm.run_boot_cli 300 ${CMAKE_COMMAND} -DBURETTE=$<TARGET_FILE:burette>
                -DWORK=${CMAKE_CURRENT_BINARY_DIR}/run_boot_cli
                -P ${CMAKE_CURRENT_SOURCE_DIR}/e2e/run_boot_cli.cmake)

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
burette_vm_test(vm.qemu_abort_retry 300 sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/qemu_abort_retry.sh
                $<TARGET_FILE:burette>)
