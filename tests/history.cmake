# The results history: E-divisive unit tests, the store's tests run against SQLite and against a
# throwaway PostgreSQL cluster the suite starts itself, the CLI of `burette history` and
# `burette package`, scripts/nightly, and the .deb.
add_executable(test_edivisive unit/test_edivisive.c)
target_link_libraries(test_edivisive PRIVATE burette_results PkgConfig::CMOCKA)
add_test(NAME unit.edivisive COMMAND test_edivisive)
set_tests_properties(unit.edivisive PROPERTIES LABELS unit)
