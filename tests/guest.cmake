# Unit tests of the guest agent's wire protocol (shared by the agent and the harness).
add_executable(test_agent_proto unit/test_agent_proto.c)
target_link_libraries(test_agent_proto PRIVATE burette_agentproto PkgConfig::CMOCKA)
add_test(NAME unit.agent_proto COMMAND test_agent_proto)
set_tests_properties(unit.agent_proto PROPERTIES LABELS unit)
