# Unit tests of results/ (statistics, reports, comparison, renderers, fetching) and the CLI
# tests of `burette compare`, `burette report` and `burette run`'s option parsing.
find_package(Threads REQUIRED)
set(RESULTS_TEST_DATA ${CMAKE_CURRENT_SOURCE_DIR}/data/reports)

foreach(name stats report compare compare_paired gate fetch)
  add_executable(test_${name} unit/test_${name}.c)
  target_link_libraries(test_${name} PRIVATE burette_results PkgConfig::CMOCKA)
  target_compile_definitions(test_${name} PRIVATE BURETTE_TEST_DATA="${RESULTS_TEST_DATA}")
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit)
endforeach()
target_link_libraries(test_fetch PRIVATE Threads::Threads)
