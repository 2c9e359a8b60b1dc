# Support library of the tests that drive the real burette binary (tests/support/e2e.h):
# starting it, reading its stderr, checking reports, and checking nothing is left behind.
# common/'s headers serve it too (fd_socket_inodes(): what sockets a process of burette's holds).
add_library(burette_e2e STATIC support/e2e.c)
target_include_directories(burette_e2e PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
find_package(Threads REQUIRED)
target_link_libraries(burette_e2e PUBLIC burette_common PkgConfig::JANSSON PkgConfig::CMOCKA
                      Threads::Threads m)
