# Unit tests of common/ (parsing of user input).
add_executable(test_parse unit/test_parse.c)
target_link_libraries(test_parse PRIVATE burette_common PkgConfig::CMOCKA)
add_test(NAME unit.parse COMMAND test_parse)
set_tests_properties(unit.parse PROPERTIES LABELS unit)
