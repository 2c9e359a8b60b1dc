# build-image.sh on a machine whose apt does not know the kernel metapackage (no Debian
# archive in the sources, or lists never updated): it must fail, name the package and say to
# run apt-get update, and leave no image behind. A stand-in apt-cache that knows nothing plays
# that machine. Run with cmake -DSCRIPT=... -DAGENT=... -DWORK=... -P image_missing_package.cmake.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/bin)
file(WRITE ${WORK}/bin/apt-cache "#!/bin/sh\nexit 0\n")
file(CHMOD ${WORK}/bin/apt-cache PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "PATH=${WORK}/bin:$ENV{PATH}"
          ${SCRIPT} ${AGENT} ${WORK}/out
  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
message("${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "build-image.sh succeeded without the kernel package")
endif()
if(NOT err MATCHES "linux-image-cloud-amd64" OR NOT err MATCHES "apt-get update")
  message(FATAL_ERROR "the error does not name the package and the fix: ${err}")
endif()
if(EXISTS ${WORK}/out/vmlinuz OR EXISTS ${WORK}/out/initramfs.cpio.gz)
  message(FATAL_ERROR "a failed build left image files behind")
endif()
