# consomme core: unit tests of its protocol code, namespace integration tests through
# `consomme run`, and a bounded libFuzzer run over the frame input path.
foreach(t checksum arp dhcp ipv4 udp config stream)
  add_executable(test_cm_${t} unit/test_${t}.c)
  target_link_libraries(test_cm_${t} PRIVATE consomme_core PkgConfig::CMOCKA)
  add_test(NAME unit.consomme.${t} COMMAND test_cm_${t})
  set_tests_properties(unit.consomme.${t} PROPERTIES LABELS unit)
endforeach()

# --- namespace integration tests: `consomme run` against the Linux stack, no VM ---
add_executable(nstool integration/nstool.c)
target_link_libraries(nstool PRIVATE PkgConfig::JANSSON PkgConfig::NL)

set(CM $<TARGET_FILE:consomme>)
set(NS $<TARGET_FILE:nstool>)
set(CM_STATS ${CMAKE_CURRENT_BINARY_DIR}/consomme_stats)
function(consomme_ns_test name)
  add_test(NAME integration.consomme.${name} COMMAND ${ARGN})
  set_tests_properties(integration.consomme.${name} PROPERTIES LABELS integration TIMEOUT 60
                       SKIP_RETURN_CODE 77)
endfunction()

consomme_ns_test(static_config ${CM} run -- ${NS} config 65520)
consomme_ns_test(static_config_mtu ${CM} --mtu 9000 run -- ${NS} config 9000)
consomme_ns_test(ping_gateway_and_dns ${CM} run -- sh -c "${NS} ping 10.0.2.2 3 && ${NS} ping 10.0.2.3 3")
find_program(BUSYBOX busybox)
if(BUSYBOX)
  consomme_ns_test(busybox_ping ${CM} run -- ${BUSYBOX} ping -c 3 10.0.2.2)
endif()
consomme_ns_test(udp_echo ${NS} udp-echo -- ${CM} run -- ${NS} udp-client 10.0.2.2 {PORT})
consomme_ns_test(dns_forward
                 ${NS} udp-echo -- ${CM} --dns 127.0.0.1:{PORT} run -- ${NS} udp-client 10.0.2.3 53)
consomme_ns_test(exit_status ${NS} expect-status 7 -- ${CM} run -- ${NS} exit 7)
consomme_ns_test(exit_status_signal ${NS} expect-status 137 -- ${CM} run -- ${NS} kill-self)
consomme_ns_test(cmd_dies_with_consomme ${NS} pdeath -- ${CM} run -- ${NS} report-pid-and-wait)
consomme_ns_test(stats_on_exit
                 ${NS} stats-check ${CM_STATS}_exit.json --
                 ${CM} --stats ${CM_STATS}_exit.json run -- ${NS} ping 10.0.2.2 3)
consomme_ns_test(stats_on_sigusr1
                 ${CM} --stats ${CM_STATS}_usr1.json run -- ${NS} sigusr1-wait ${CM_STATS}_usr1.json)
consomme_ns_test(error_cmd_not_found
                 ${NS} expect-stderr 1 "cannot run" -- ${CM} run -- /nonexistent/cmd)
consomme_ns_test(error_tun_not_openable
                 ${NS} expect-stderr 1 "chmod 0666 /dev/net/tun" -- ${NS} as-nobody -- ${CM} run -- true)
consomme_ns_test(usage_bad_mtu ${NS} expect-stderr 2 "--mtu" -- ${CM} --mtu 100 run -- true)
consomme_ns_test(usage_bad_buffer
                 ${NS} expect-stderr 2 "INITIAL" -- ${CM} --tcp-rx-buffer 4M:16K run -- true)
consomme_ns_test(usage_no_command ${NS} expect-stderr 2 "needs a command" -- ${CM} run)
consomme_ns_test(usage_no_transport ${NS} expect-stderr 2 "exactly one" -- ${CM})
