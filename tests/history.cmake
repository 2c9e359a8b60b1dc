# The results history: E-divisive unit tests, the store's tests run against SQLite and against a
# throwaway PostgreSQL cluster the suite starts itself, the CLI of `burette history` and
# `burette package`, scripts/nightly, and the .deb.
burette_unit_test(edivisive unit/test_edivisive.c burette_results)

add_executable(test_history unit/test_history.c)
target_link_libraries(test_history PRIVATE burette_results PkgConfig::CMOCKA)
add_test(NAME unit.history.sqlite COMMAND test_history sqlite)
set_tests_properties(unit.history.sqlite PROPERTIES LABELS unit)

# One throwaway PostgreSQL cluster for every test that needs one, started and stopped by ctest.
set(HISTORY_PG_STATE ${CMAKE_CURRENT_BINARY_DIR}/pg-cluster.url)
add_test(NAME history.pg.start
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/history/pg-cluster start ${HISTORY_PG_STATE})
add_test(NAME history.pg.stop
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/history/pg-cluster stop ${HISTORY_PG_STATE})
set_tests_properties(history.pg.start PROPERTIES FIXTURES_SETUP history_pg LABELS integration)
set_tests_properties(history.pg.stop PROPERTIES FIXTURES_CLEANUP history_pg LABELS integration)
add_test(NAME integration.history.postgresql
         COMMAND test_history postgresql ${HISTORY_PG_STATE})
set_tests_properties(integration.history.postgresql PROPERTIES FIXTURES_REQUIRED history_pg
                     LABELS integration)

if(PYTHON3)
  foreach(suite history package)
    add_test(NAME cli.${suite}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/history/cli_test.sh $<TARGET_FILE:burette>
                     ${CMAKE_CURRENT_SOURCE_DIR}/data/reports ${suite})
    set_tests_properties(cli.${suite} PROPERTIES LABELS unit)
  endforeach()
  # Two real nights, one boot each; the script is tested once, not again under the sanitizers.
  if(NOT BURETTE_SANITIZE)
    add_test(NAME vm.nightly
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/history/nightly_test.sh
                     ${CMAKE_SOURCE_DIR}/scripts $<TARGET_FILE:burette>)
    set_tests_properties(vm.nightly PROPERTIES LABELS vm)
  endif()
endif()

# The .deb, once: packaging the sanitizer build would only package it again, slower.
if(NOT BURETTE_SANITIZE)
  add_test(NAME integration.deb COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/history/deb_test.sh
                                        ${CMAKE_BINARY_DIR})
  set_tests_properties(integration.deb PROPERTIES LABELS integration)
endif()
