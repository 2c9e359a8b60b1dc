# The layers of docs/ARCHITECTURE-layout.md, checked on the includes of every source: a file
# that includes a header of a layer above its own (a launcher reaching into harness/, the run
# loop into the CLI) fails unit.layers with the line that does.
if(PYTHON3)
  add_test(NAME unit.layers COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/layers/check_layers.py
                                    ${PROJECT_SOURCE_DIR})
  set_tests_properties(unit.layers PROPERTIES LABELS unit)
else()
  burette_skipped_test(unit.layers unit "python3 not found")
endif()
