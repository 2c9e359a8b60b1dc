# consomme core: unit tests of its protocol code and namespace integration tests through
# `consomme run` (its fuzz targets: fuzz.cmake).
foreach(t checksum arp dhcp ipv4 udp config stream virtq vhost_user vu_net)
  add_executable(test_cm_${t} unit/test_${t}.c)
  target_link_libraries(test_cm_${t} PRIVATE consomme_core PkgConfig::CMOCKA)
  add_test(NAME unit.consomme.${t} COMMAND test_cm_${t})
  set_tests_properties(unit.consomme.${t} PROPERTIES LABELS unit)
endforeach()
# the vhost-user protocol and the virtio-net data path over it share one fake front-end
target_sources(test_cm_vhost_user PRIVATE unit/test_vu.c)
target_sources(test_cm_vu_net PRIVATE unit/test_vu.c)
# the NAT policy: its parser and matcher, and the core enforcing it (one case makes a user and
# network namespace of its own: skipped, exit 77, where that is not allowed)
add_executable(test_cm_policy unit/test_policy.c)
target_link_libraries(test_cm_policy PRIVATE consomme_core PkgConfig::CMOCKA)
add_test(NAME unit.consomme.policy COMMAND test_cm_policy)
set_tests_properties(unit.consomme.policy PROPERTIES LABELS unit SKIP_RETURN_CODE 77)

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
else()
  burette_skipped_test(integration.consomme.busybox_ping integration
                       "busybox not found: install busybox-static (scripts/install-deps does)")
endif()
consomme_ns_test(resolv_conf_names_dns_address
                 ${CM} run -- grep -qx "nameserver 10.0.2.3" /etc/resolv.conf)
consomme_ns_test(udp_echo ${NS} udp-echo -- ${CM} run -- ${NS} udp-client 10.0.2.2 {PORT})
consomme_ns_test(udp_refused_port
                 ${NS} closed-port -- ${CM} run -- ${NS} udp-refused 10.0.2.2 {PORT})
consomme_ns_test(dns_forward
                 ${NS} udp-echo -- ${CM} --dns 127.0.0.1:{PORT} run -- ${NS} udp-client 10.0.2.3 53)
consomme_ns_test(exit_status ${NS} expect-status 7 -- ${CM} run -- ${NS} exit 7)
consomme_ns_test(exit_status_signal ${NS} expect-status 137 -- ${CM} run -- ${NS} kill-self)
consomme_ns_test(cmd_dies_with_consomme ${NS} pdeath -- ${CM} run -- ${NS} report-pid-and-wait)
consomme_ns_test(sigterm_reaches_cmd ${NS} term-forward -- ${CM} run -- ${NS} report-pid-and-wait)
consomme_ns_test(stats_on_exit
                 ${NS} stats-check ${CM_STATS}_exit.json --
                 ${CM} --stats ${CM_STATS}_exit.json run -- ${NS} ping 10.0.2.2 3)
consomme_ns_test(stats_on_sigusr1
                 ${CM} --stats ${CM_STATS}_usr1.json run -- ${NS} sigusr1-wait ${CM_STATS}_usr1.json)
consomme_ns_test(error_cmd_not_found
                 ${NS} expect-stderr 1 "cannot run" -- ${CM} run -- /nonexistent/cmd)
consomme_ns_test(error_tun_not_openable
                 ${NS} expect-stderr 1 "chmod 0666 /dev/net/tun" -- ${NS} as-nobody -- ${CM} run -- true)
consomme_ns_test(error_userns_disabled
                 ${NS} expect-stderr 1 "user.max_user_namespaces" -- ${NS} no-userns -- ${CM} run -- true)
consomme_ns_test(usage_bad_mtu ${NS} expect-stderr 2 "--mtu" -- ${CM} --mtu 100 run -- true)
consomme_ns_test(usage_bad_buffer
                 ${NS} expect-stderr 2 "INITIAL" -- ${CM} --tcp-rx-buffer 4M:16K run -- true)
consomme_ns_test(usage_bad_rule
                 ${NS} expect-stderr 2 "did you mean 10.0.2.0/24" -- ${CM} --allow 10.0.2.15/24 run -- true)
consomme_ns_test(usage_bad_rule_port
                 ${NS} expect-stderr 2 "--deny: '10.0.2.2:90-80': port range 90-80 is reversed" --
                 ${CM} --deny 10.0.2.2:90-80 run -- true)
consomme_ns_test(usage_buffer_memory_below_one_connection
                 ${NS} expect-stderr 2 "below one connection's initial rings" --
                 ${CM} --max-buffer-memory 16K run -- true)
consomme_ns_test(usage_bad_buffer_memory
                 ${NS} expect-stderr 2 "--max-buffer-memory: 'lots' is not a size" --
                 ${CM} --max-buffer-memory lots run -- true)
consomme_ns_test(usage_no_command ${NS} expect-stderr 2 "needs a command" -- ${CM} run)
consomme_ns_test(usage_runas_unknown_user ${NS} expect-stderr 2 "no user 'no-such-user-burette'"
                 -- ${CM} --runas no-such-user-burette run -- true)
consomme_ns_test(usage_runas_without_sandbox ${NS} expect-stderr 2 "--no-sandbox"
                 -- ${CM} --runas nobody --no-sandbox run -- true)
consomme_ns_test(usage_no_transport ${NS} expect-stderr 2 "exactly one" -- ${CM})
consomme_ns_test(usage_two_transports
                 ${NS} expect-stderr 2 "exactly one" -- ${CM} --vhost-user x.sock --fd 0)
# an existing file (this one) is refused, and left alone
consomme_ns_test(error_vhost_user_path_exists
                 ${NS} expect-stderr 1 "already exists" --
                 ${CM} --vhost-user ${CMAKE_CURRENT_SOURCE_DIR}/consomme.cmake)

# The libFuzzer targets over the frame input path, vhost-user, virtqueues and the stateful TCP
# and UDP data path are in fuzz.cmake.

# --- end to end: `burette run --test network --backend consomme` under TCG, short settings ---
if(TARGET guest_image)
  burette_e2e_program(test_network_consomme e2e/test_network_consomme.c burette consomme
                      guest_image)
  burette_vm_test(vm.network_consomme 400 test_network_consomme $<TARGET_FILE:burette> stream)

  # --streams 1,2 --mtu 1500,9000 in one short run: two guests, twelve 1-s sub-tests
  burette_e2e_program(test_network_sweep e2e/test_network_sweep.c burette consomme guest_image)
  burette_vm_test(vm.network_sweep 600 test_network_sweep $<TARGET_FILE:burette>)
endif()

# consomme's sandbox as burette starts it (the backend's prepare()), no VM: status fields while
# datagrams cross, --stats in a root-owned directory, and a forbidden syscall's message.
add_executable(test_consomme_sandbox integration/test_consomme_sandbox.c)
target_include_directories(test_consomme_sandbox PRIVATE ${CMAKE_SOURCE_DIR}/backends/consomme)
target_link_libraries(test_consomme_sandbox PRIVATE burette_harness PkgConfig::CMOCKA)
add_dependencies(test_consomme_sandbox consomme)
add_test(NAME integration.consomme.sandbox COMMAND test_consomme_sandbox)
set_tests_properties(integration.consomme.sandbox PROPERTIES LABELS integration TIMEOUT 60
                     SKIP_RETURN_CODE 77)

# consomme's socket path appears only once it listens (bind under a temporary name, listen,
# rename): a client connecting back to back from the start is never refused.
add_executable(test_consomme_socket_ready integration/test_consomme_socket_ready.c)
target_link_libraries(test_consomme_socket_ready PRIVATE PkgConfig::CMOCKA)
add_dependencies(test_consomme_socket_ready consomme)
add_test(NAME integration.consomme.socket_ready
         COMMAND test_consomme_socket_ready $<TARGET_FILE:consomme>)
set_tests_properties(integration.consomme.socket_ready PROPERTIES LABELS integration TIMEOUT 120)

# The --stats file, rewritten in place under the sandbox, read as whole snapshots under a
# shared flock while consomme rewrites it, and a reader's lock honoured.
add_executable(test_consomme_stats_snapshot integration/test_consomme_stats_snapshot.c)
target_link_libraries(test_consomme_stats_snapshot PRIVATE PkgConfig::JANSSON PkgConfig::CMOCKA)
add_dependencies(test_consomme_stats_snapshot consomme)
add_test(NAME integration.consomme.stats_snapshot
         COMMAND test_consomme_stats_snapshot $<TARGET_FILE:consomme>)
set_tests_properties(integration.consomme.stats_snapshot PROPERTIES LABELS integration TIMEOUT 120)
