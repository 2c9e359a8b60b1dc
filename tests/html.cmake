# Tests of the HTML renderer through the burette binary: the page is parsed as XML and
# checked for one chart per metric, one mark per sample, verdicts, escaping and
# self-containment. Needs python3 (its xml.etree is the parser).
if(PYTHON3)
  add_test(NAME html.render
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/html/check_html.py $<TARGET_FILE:burette>
                   ${CMAKE_CURRENT_SOURCE_DIR}/data/reports)
  set_tests_properties(html.render PROPERTIES LABELS unit)
endif()
