# libFuzzer targets, built by clang whatever the main compiler is, each run by ctest for a
# bounded time (label fuzz) over its corpus: new inputs go to the build tree, the committed
# seeds in tests/data/NAME (when there are any) are only read. Without a clang that can link
# libFuzzer the targets are left out and their tests registered as skipped.
#
#   consomme_fuzz        frames into the stack (every protocol, checksums fixed up or not)
#   vhost_user_fuzz      the vhost-user message stream, then the data path over its rings
#   virtq_fuzz           virtqueue descriptor chains
#   consomme_state_fuzz  a guest and a host talking TCP and UDP through the stack (stateful)
#   agent_proto_fuzz     the guest agent's line reader and message decoder
#   helper_rpc_fuzz      the helper RPC's record reassembly and body decoding
#   report_fuzz          report JSON as `burette compare` reads it, compared and rendered
#
# The long run and the coverage measurement are described in README.md ("Fuzzing").
option(BURETTE_FUZZ_COVERAGE "Also build each fuzz target as NAME_cov, for coverage reports" OFF)
# A fixed seed: a CI run tries the same inputs in the same order each time, so a failure comes
# back when run again, and a change is not refused for an old bug a new seed happened on (the
# long run in README.md is where new bugs are looked for).
set(BURETTE_FUZZ_SEED 1 CACHE STRING
    "libFuzzer -seed for the fuzz tests ctest runs; 0: a new one each run")
set(FUZZ_TESTS fuzz.consomme.frames fuzz.consomme.vhost_user fuzz.consomme.virtq
    fuzz.consomme.tcp_state fuzz.agent_proto fuzz.helper_rpc fuzz.report)
find_program(CLANG_FOR_FUZZ NAMES clang clang-16 clang-15 clang-14)
set(FUZZ_OK OFF)
if(CLANG_FOR_FUZZ)
  set(probe ${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe.c)
  file(WRITE ${probe} "#include <stdint.h>\n#include <stddef.h>\n"
       "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n")
  execute_process(COMMAND ${CLANG_FOR_FUZZ} -fsanitize=fuzzer,address,undefined ${probe}
                  -o ${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe
                  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
  if(probe_rc EQUAL 0)
    set(FUZZ_OK ON)
  endif()
endif()

if(NOT FUZZ_OK)
  message(STATUS "no clang with libFuzzer found, fuzz tests skipped")
  foreach(t ${FUZZ_TESTS})
    burette_skipped_test(${t} fuzz
                         "no clang that links libFuzzer: install clang and libclang-rt-14-dev")
  endforeach()
  return()
endif()

set(fuzz_inc ${CMAKE_SOURCE_DIR}/common ${JANSSON_INCLUDE_DIRS} ${NL_INCLUDE_DIRS})
list(TRANSFORM fuzz_inc PREPEND -I)
# the project's warnings (CMakeLists.txt), errors too under BURETTE_WERROR
set(fuzz_warn -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter)
if(BURETTE_WERROR)
  list(APPEND fuzz_warn -Werror)
endif()
# burette_fuzz_target(NAME TEST SECONDS [FLAGS ...] [LIBS ...] [DEPENDS target...] SOURCES ...
#                     [COV_SOURCES ...] [COV_FLAGS ...] [COV_LIBS ...]):
# build bin/NAME with clang and run it in ctest as TEST for SECONDS. The COV_ lists are added to
# NAME_cov only: code the target never calls, linked so that the coverage report counts it.
function(burette_fuzz_target name test seconds)
  cmake_parse_arguments(F "" "" "FLAGS;LIBS;DEPENDS;SOURCES;COV_SOURCES;COV_FLAGS;COV_LIBS" ${ARGN})
  set(bin ${CMAKE_BINARY_DIR}/bin/${name})
  add_custom_command(OUTPUT ${bin}
    COMMAND ${CLANG_FOR_FUZZ} -std=gnu17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined ${fuzz_warn}
            ${fuzz_inc} ${F_FLAGS} ${F_SOURCES} ${JANSSON_LINK_LIBRARIES} ${F_LIBS} -o ${bin}
    DEPENDS ${F_SOURCES} ${F_DEPENDS}
    COMMAND_EXPAND_LISTS
    COMMENT "Building ${name} with clang (libFuzzer)")
  add_custom_target(${name} ALL DEPENDS ${bin})
  if(BURETTE_FUZZ_COVERAGE)
    # the same target without sanitizers (whose never-taken error branches would count as
    # edges) and with source-based coverage, to replay a corpus and measure what it reaches
    add_custom_command(OUTPUT ${bin}_cov
      COMMAND ${CLANG_FOR_FUZZ} -std=gnu17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer
              -fprofile-instr-generate -fcoverage-mapping
              ${fuzz_inc} ${F_FLAGS} ${F_COV_FLAGS} ${F_SOURCES} ${F_COV_SOURCES}
              ${JANSSON_LINK_LIBRARIES} ${F_LIBS} ${F_COV_LIBS} -o ${bin}_cov
      DEPENDS ${F_SOURCES} ${F_COV_SOURCES} ${F_DEPENDS}
      COMMAND_EXPAND_LISTS
      COMMENT "Building ${name}_cov with clang (libFuzzer, coverage)")
    add_custom_target(${name}_cov ALL DEPENDS ${bin}_cov)
  endif()
  set(corpus ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
  file(MAKE_DIRECTORY ${corpus})
  set(seeds)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/data/${name})
    set(seeds ${CMAKE_CURRENT_SOURCE_DIR}/data/${name})
  endif()
  add_test(NAME ${test}
           COMMAND ${bin} -seed=${BURETTE_FUZZ_SEED} -max_total_time=${seconds}
                   -rss_limit_mb=2048 -print_final_stats=1
                   ${corpus} ${seeds})
  # 77: the target cannot isolate itself in a private network namespace (fuzz_ns.h)
  set_tests_properties(${test} PROPERTIES LABELS fuzz TIMEOUT 120 SKIP_RETURN_CODE 77)
endfunction()

# --- consomme ---
get_property(cm_sources GLOBAL PROPERTY CONSOMME_SOURCES)
set(cm_dir ${CMAKE_SOURCE_DIR}/backends/consomme)
set(cm_stack_src ${cm_sources}
    ${CMAKE_SOURCE_DIR}/common/errbuf.c ${CMAKE_SOURCE_DIR}/common/parse.c
    ${CMAKE_SOURCE_DIR}/common/userns.c ${CMAKE_SOURCE_DIR}/common/nslink.c)
# The frame seeds (one valid frame per protocol: ARP, DHCP, UDP, DNS, ICMP, a TCP SYN, and a
# stream chunk, each also with the checksum-fixup flags) live in tests/data/consomme_fuzz.
burette_fuzz_target(consomme_fuzz fuzz.consomme.frames 20 FLAGS -I${cm_dir}
                    LIBS ${NL_LINK_LIBRARIES}
                    SOURCES ${cm_dir}/fuzz/consomme_fuzz.c ${cm_stack_src})
burette_fuzz_target(vhost_user_fuzz fuzz.consomme.vhost_user 10 FLAGS -I${cm_dir}
                    LIBS ${NL_LINK_LIBRARIES}
                    SOURCES ${cm_dir}/fuzz/vhost_user_fuzz.c ${cm_stack_src})
burette_fuzz_target(virtq_fuzz fuzz.consomme.virtq 10 FLAGS -I${cm_dir}
                    SOURCES ${cm_dir}/fuzz/virtq_fuzz.c ${cm_dir}/virtq.c)
# The stateful target links all of consomme's library but the TAP namespace's set-up (netns.c,
# a child process and the netlink helpers) it never reaches, built with CONSOMME_FUZZ: the
# fuzzer brings cm_now_ms() (context.c leaves it out) and sets the stack's ISN source, so an
# input replays. Its vhost-user and virtqueue ops are the sessions of vhost_user_fuzz and
# virtq_fuzz (fuzz/fuzz_vu.h), so one run of it covers the whole stack.
set(cm_state_src ${cm_sources})
list(FILTER cm_state_src EXCLUDE REGEX "/netns\\.c$")
pkg_check_modules(FUZZ_SANDBOX REQUIRED libseccomp libcap-ng) # common/ has them as targets only
# Its _cov build links the rest of consomme too (the program's main(), renamed; the sandbox;
# the TAP namespace), which no input reaches, so that its report is over all of consomme.
burette_fuzz_target(consomme_state_fuzz fuzz.consomme.tcp_state 20
                    FLAGS -I${cm_dir} -DCONSOMME_FUZZ
                    SOURCES ${cm_dir}/fuzz/consomme_state_fuzz.c ${cm_dir}/fuzz/state_fuzz_guest.c
                            ${cm_dir}/fuzz/state_fuzz_stack.c ${cm_state_src}
                            ${CMAKE_SOURCE_DIR}/common/errbuf.c
                            ${CMAKE_SOURCE_DIR}/common/parse.c
                    COV_FLAGS -Dmain=consomme_main ${FUZZ_SANDBOX_CFLAGS}
                    COV_SOURCES ${cm_dir}/netns.c ${cm_dir}/main.c ${cm_dir}/sandbox.c
                                ${CMAKE_SOURCE_DIR}/common/userns.c
                                ${CMAKE_SOURCE_DIR}/common/nslink.c
                                ${CMAKE_SOURCE_DIR}/common/seccomp_sandbox.c
                    COV_LIBS ${NL_LINK_LIBRARIES} ${FUZZ_SANDBOX_LINK_LIBRARIES})

# --- what the harness reads from others: the guest agent, the helper, baseline reports ---
burette_fuzz_target(agent_proto_fuzz fuzz.agent_proto 10 FLAGS -I${CMAKE_SOURCE_DIR}/guest
                    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/agent_proto_fuzz.c
                            ${CMAKE_SOURCE_DIR}/guest/agent_proto.c
                            ${CMAKE_SOURCE_DIR}/common/errbuf.c)
burette_fuzz_target(helper_rpc_fuzz fuzz.helper_rpc 10 FLAGS -I${CMAKE_SOURCE_DIR}/helper
                    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/helper_rpc_fuzz.c
                            ${CMAKE_SOURCE_DIR}/helper/rpc.c ${CMAKE_SOURCE_DIR}/common/errbuf.c)
# The results library but its history back-ends (SQLite, PostgreSQL), which compare never uses.
file(GLOB report_fuzz_src CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/results/*.c)
list(FILTER report_fuzz_src EXCLUDE REGEX "/history[^/]*\\.c$")
burette_fuzz_target(report_fuzz fuzz.report 10
                    FLAGS -I${CMAKE_SOURCE_DIR}/results -I${CMAKE_BINARY_DIR}/generated
                    LIBS ${CURL_LINK_LIBRARIES} -lm DEPENDS build_info
                    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/report_fuzz.c ${report_fuzz_src}
                            ${CMAKE_SOURCE_DIR}/common/errbuf.c ${CMAKE_SOURCE_DIR}/common/parse.c)
