# Tests of `burette run --test latency`: the rr result line, percentiles and the count check
# (unit); the guest's rr loop against the helper's echo server on loopback, no VM
# (integration); the whole run on consomme and on tap (vm).
add_executable(test_rr unit/test_rr.c)
target_link_libraries(test_rr PRIVATE burette_harness PkgConfig::CMOCKA m)
add_test(NAME unit.rr COMMAND test_rr)
set_tests_properties(unit.rr PROPERTIES LABELS unit)

# rr_client.c is the agent's (linked statically into the guest); the test builds it in again.
add_executable(test_rr_loopback integration/test_rr_loopback.c
               ${CMAKE_SOURCE_DIR}/guest/rr_client.c)
target_link_libraries(test_rr_loopback PRIVATE burette_harness burette_helper PkgConfig::CMOCKA)
add_test(NAME integration.rr_loopback COMMAND test_rr_loopback)
set_tests_properties(integration.rr_loopback PROPERTIES LABELS integration TIMEOUT 120)

# Under TCG, short settings: 2 iterations of three 2-s sub-tests on one boot, about 40 s per
# backend on a 2-core machine (the sanitizer build a little more); consomme's run also strikes
# two runs mid-sub-test (SIGINT; echo server killed), about 50 s more.
burette_e2e_program(test_latency e2e/test_latency.c burette guest_image)
foreach(backend consomme tap)
  set(LATENCY_STRIKES)
  if(backend STREQUAL "consomme")
    set(LATENCY_STRIKES --strikes)
  endif()
  burette_vm_test(vm.latency_${backend} 300 test_latency $<TARGET_FILE:burette> ${backend}
                  ${LATENCY_STRIKES})
  set_tests_properties(vm.latency_${backend} PROPERTIES SKIP_RETURN_CODE 77)
endforeach()
