# CLI tests: exit statuses and messages of the burette binary (compare, report, run's option
# parsing, the top-level dispatch). They need python3 to check JSON output.
if(PYTHON3)
  foreach(suite compare report run main)
    add_test(NAME cli.${suite}
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/cli_test.sh $<TARGET_FILE:burette>
                     ${CMAKE_CURRENT_SOURCE_DIR}/data/reports ${suite})
    set_tests_properties(cli.${suite} PROPERTIES LABELS unit)
  endforeach()
endif()

# --dry-run output, byte for byte, against outputs recorded for several option sets.
add_test(NAME cli.dry_run_golden
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/dry_run_golden.sh $<TARGET_FILE:burette>
                 ${CMAKE_CURRENT_SOURCE_DIR}/data/dry_run)
set_tests_properties(cli.dry_run_golden PROPERTIES LABELS unit)

add_test(NAME cli.readme_backend_options
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli/readme_options.sh
                 $<TARGET_FILE:backend_options_md> ${PROJECT_SOURCE_DIR}/README.md)
set_tests_properties(cli.readme_backend_options PROPERTIES LABELS unit)
