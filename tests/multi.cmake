# Several backends and variants in one `burette run`: the --variant/--backend syntax (unit) and
# an interleaved two-variant run of consomme under TCG with short settings, a SIGINT with both
# guests up, and a --gate that matches nothing, stopped after its first round (vm; six boots,
# three 1 s iterations of three sub-tests per variant, two to three minutes on a loaded 2-core
# machine).
burette_unit_test(variants unit/test_variants.c burette_harness)
# The loop's orders (by iteration, by sub-test, sequential) over a test of the test's making.
burette_unit_test(loop unit/test_loop.c burette_harness)

if(TARGET guest_image)
  burette_e2e_program(test_multi e2e/test_multi.c burette consomme guest_image)
  burette_vm_test(vm.multi 600 test_multi $<TARGET_FILE:burette>)
endif()

# The command line of several runs, through the real binary; no guest is booted.
if(PYTHON3)
  add_test(NAME cli.multi COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_multi_cli.sh
                                  $<TARGET_FILE:burette>)
  set_tests_properties(cli.multi PROPERTIES LABELS unit)
endif()

# A report's config against configs recorded before the backend registry, and the registry's rows.
add_executable(test_run_config unit/test_run_config.c)
target_link_libraries(test_run_config PRIVATE burette_harness PkgConfig::CMOCKA)
target_compile_definitions(test_run_config
                           PRIVATE RUN_CONFIG_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/run_config")
add_test(NAME unit.run_config COMMAND test_run_config)
set_tests_properties(unit.run_config PROPERTIES LABELS unit)
