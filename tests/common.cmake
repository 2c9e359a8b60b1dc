# Unit tests of common/ (parsing of user input).
burette_unit_test(parse unit/test_parse.c burette_common)
