# consomme TCP: unit tests of the ring buffer, the reassembler and the TCP state machine (the
# latter through a fake core that captures the segments tcp.c sends and serves real host
# sockets on 127.0.0.1).
set(CONSOMME_DIR ${CMAKE_SOURCE_DIR}/backends/consomme)

add_executable(test_ring unit/test_ring.c ${CONSOMME_DIR}/ring.c)
target_include_directories(test_ring PRIVATE ${CONSOMME_DIR})
target_link_libraries(test_ring PRIVATE burette_common PkgConfig::CMOCKA)
add_test(NAME unit.consomme.ring COMMAND test_ring)

add_executable(test_reasm unit/test_reasm.c ${CONSOMME_DIR}/reasm.c)
target_include_directories(test_reasm PRIVATE ${CONSOMME_DIR})
target_link_libraries(test_reasm PRIVATE PkgConfig::CMOCKA)
add_test(NAME unit.consomme.reasm COMMAND test_reasm)

set_tests_properties(unit.consomme.ring unit.consomme.reasm PROPERTIES LABELS unit)

# The TCP state machine with a fake core (tests/unit/test_tcp.c). The core's checksum.c is
# used once it exists; until then the test carries its own stand-in.
set(TEST_TCP_SOURCES unit/test_tcp.c ${CONSOMME_DIR}/tcp.c ${CONSOMME_DIR}/ring.c
    ${CONSOMME_DIR}/reasm.c)
if(EXISTS ${CONSOMME_DIR}/checksum.c)
  list(APPEND TEST_TCP_SOURCES ${CONSOMME_DIR}/checksum.c)
endif()
add_executable(test_tcp ${TEST_TCP_SOURCES})
if(EXISTS ${CONSOMME_DIR}/checksum.c)
  target_compile_definitions(test_tcp PRIVATE HAVE_CORE_CHECKSUM)
endif()
target_include_directories(test_tcp PRIVATE ${CONSOMME_DIR})
target_link_libraries(test_tcp PRIVATE burette_common PkgConfig::JANSSON PkgConfig::CMOCKA)
add_test(NAME unit.consomme.tcp COMMAND test_tcp)
set_tests_properties(unit.consomme.tcp PROPERTIES LABELS unit TIMEOUT 120)
