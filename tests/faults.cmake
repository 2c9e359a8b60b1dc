# Fault tests: SIGKILL of burette, consomme, QEMU and the namespace helper at seeded moments of a
# run (tests/e2e/test_faults.c). The suite runs a sample, one kill point per victim with a seed
# from the clock (printed, for a replay), in the plain build; the matrix, ten seeded points per
# victim (about half an hour), has the label fault, which scripts/test leaves out:
#   ctest --test-dir build -L fault --output-on-failure
burette_e2e_program(test_faults e2e/test_faults.c burette consomme guest_image)
if(NOT BURETTE_SANITIZE)
  burette_vm_test(vm.faults 900 test_faults $<TARGET_FILE:burette> 0 1)
endif()
add_test(NAME fault.matrix COMMAND test_faults $<TARGET_FILE:burette> 1 10)
set_tests_properties(fault.matrix PROPERTIES LABELS fault TIMEOUT 7200 RESOURCE_LOCK guest
                     ENVIRONMENT "BURETTE_IMAGE_DIR=${CMAKE_BINARY_DIR}/guest")
