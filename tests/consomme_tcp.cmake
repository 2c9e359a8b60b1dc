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

# The TCP state machine with a fake core (tests/unit/test_tcp.h), one group per file.
add_executable(test_tcp unit/test_tcp.c unit/test_tcp_core.c unit/test_tcp_handshake.c
               unit/test_tcp_data.c unit/test_tcp_buffers.c ${CONSOMME_DIR}/tcp.c
               ${CONSOMME_DIR}/event.c
               ${CONSOMME_DIR}/ring.c ${CONSOMME_DIR}/reasm.c ${CONSOMME_DIR}/checksum.c)
target_include_directories(test_tcp PRIVATE ${CONSOMME_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/unit)
target_link_libraries(test_tcp PRIVATE burette_common PkgConfig::JANSSON PkgConfig::CMOCKA)
add_test(NAME unit.consomme.tcp COMMAND test_tcp)
set_tests_properties(unit.consomme.tcp PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)

# --- namespace integration tests: TCP through `consomme run` against the Linux stack ---
add_executable(consomme_tcp_tool integration/consomme_tcp_tool.c integration/consomme_tcp_client.c
               integration/consomme_tcp_server.c)
target_link_libraries(consomme_tcp_tool PRIVATE burette_common PkgConfig::JANSSON
                      PkgConfig::LIBCRYPTO)

set(CMT $<TARGET_FILE:consomme_tcp_tool>)
set(CMC $<TARGET_FILE:consomme>)
set(CMT_STATS ${CMAKE_CURRENT_BINARY_DIR}/consomme_tcp_stats)
function(consomme_tcp_test name timeout)
  add_test(NAME integration.consomme_tcp.${name} COMMAND ${ARGN})
  set_tests_properties(integration.consomme_tcp.${name} PROPERTIES LABELS integration
                       TIMEOUT ${timeout})
endfunction()

# 1 GiB each way, SHA-256 compared end to end.
consomme_tcp_test(upload_1g_sha256 180
  ${CMT} server upload 1G -- ${CMC} run -- ${CMT} client upload 10.0.2.2 {PORT} 1G)
consomme_tcp_test(download_1g_sha256 180
  ${CMT} server download 1G -- ${CMC} run -- ${CMT} client download 10.0.2.2 {PORT} 1G)
# 1000 connections open at once, each echoing its own 1000 bytes.
consomme_tcp_test(echo_1000_concurrent 120
  ${CMT} server echo 1000 -- ${CMC} run -- ${CMT} client echo 10.0.2.2 {PORT} 1000 1000)
consomme_tcp_test(max_connections_refuses_beyond_cap 60
  ${CMT} server echo 5 -- ${CMC} --max-connections 5 run -- ${CMT} client cap 10.0.2.2 {PORT} 5)
# The memory budget: 5 connections' initial rings (16K + 16K each) fit 160K, the 6th is refused.
consomme_tcp_test(max_buffer_memory_refuses_beyond_budget 60
  ${CMT} server echo 5 -- ${CMC} --max-buffer-memory 160K run -- ${CMT} client cap 10.0.2.2 {PORT} 5)
# The NAT policy: a port denied by rule is refused (RST: ECONNREFUSED) although the host
# listens on it; allowed by rule before a deny-all, the same port is reached. The host end
# counts exactly one connection, the allowed one.
consomme_tcp_test(policy_deny_refuses_listening_port_allow_reaches_it 60
  ${CMT} server echo 1 -- sh -c
  "${CMC} --deny 10.0.2.2:$0 run -- ${CMT} client refused 10.0.2.2 $0 && ${CMC} --allow 10.0.2.2:$0 --deny 0.0.0.0/0 run -- ${CMT} client echo 10.0.2.2 $0 1 1000"
  {PORT})
consomme_tcp_test(refused_port_econnrefused 60
  ${CMT} server refused -- ${CMC} run -- ${CMT} client refused 10.0.2.2 {PORT})
# TCP to the DNS address: port 53 reaches the host's resolver (here --dns names an echo server
# on host loopback), any other port is refused at once, never connected to anywhere.
consomme_tcp_test(dns_address_port_53_reaches_resolver 60
  ${CMT} server echo 1 -- ${CMC} --dns 127.0.0.1:{PORT} run -- ${CMT} client echo 10.0.2.3 53 1 1000)
consomme_tcp_test(dns_address_other_port_refused 60
  ${CMT} server refused -- ${CMC} run -- ${CMT} client refused 10.0.2.3 {PORT})
consomme_tcp_test(half_close_reply_after_shut_wr 60
  ${CMT} server halfclose -- ${CMC} run -- ${CMT} client halfclose 10.0.2.2 {PORT})
# Autotune: the ring of the busy direction grows, stops at exactly its maximum, and the data
# still arrives intact. A 512K maximum is reached within 256 MiB however slow the build (an
# rx ring only grows after it filled to 75% and drained, which needs the guest to outrun
# the host socket for a moment; the default 4M maximum is reached by fast builds only).
consomme_tcp_test(autotune_rx_grows_to_max 120
  ${CMT} server upload 256M --stats ${CMT_STATS}_rx.json rx --
  ${CMC} --tcp-rx-buffer 16K:512K --stats ${CMT_STATS}_rx.json run --
  ${CMT} client upload 10.0.2.2 {PORT} 256M)
consomme_tcp_test(autotune_tx_grows_to_max 120
  ${CMT} server download 256M --stats ${CMT_STATS}_tx.json tx --
  ${CMC} --tcp-tx-buffer 16K:512K --stats ${CMT_STATS}_tx.json run --
  ${CMT} client download 10.0.2.2 {PORT} 256M)
# A fixed ring (INITIAL = MAX) never grows: the counter stays at 0.
consomme_tcp_test(fixed_buffers_never_grow 120
  ${CMT} server upload 64M --stats ${CMT_STATS}_fixed.json fixed --
  ${CMC} --tcp-rx-buffer 256K --tcp-tx-buffer 256K --stats ${CMT_STATS}_fixed.json run --
  ${CMT} client upload 10.0.2.2 {PORT} 64M)
