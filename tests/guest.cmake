# Unit tests of the guest agent's wire protocol (shared by the agent and the harness).
burette_unit_test(agent_proto unit/test_agent_proto.c burette_agentproto)

# The image build's error when apt does not know the kernel package (no download happens).
add_test(NAME unit.image_missing_package
         COMMAND ${CMAKE_COMMAND} -DSCRIPT=${CMAKE_SOURCE_DIR}/guest/build-image.sh
                 -DAGENT=$<TARGET_FILE:burette-agent>
                 -DWORK=${CMAKE_CURRENT_BINARY_DIR}/image_missing_package
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/e2e/image_missing_package.cmake)
set_tests_properties(unit.image_missing_package PROPERTIES LABELS unit)
