#!/bin/sh
# The Debian package: built with cpack from the build tree, unpacked into a throwaway root with
# dpkg -x, and the installed burette run from there: its --version, and its guest image found
# where the package put it. Also checks that the package declares its dependencies.
#
# Usage: deb_test.sh BUILD_DIR
set -u
build=$1
. "$(dirname "$0")/../support/cli_checks.sh"

if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >"$tmp/cpack.log" 2>&1; then
    fail "cpack -G DEB failed: $(tail -n 20 "$tmp/cpack.log")"
    exit 1
fi
deb=$(ls "$tmp"/pkg/burette_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { fail "cpack wrote no burette_*.deb"; exit 1; }

depends=$(dpkg-deb -f "$deb" Depends)
for dep in qemu-system-x86 libjansson4 libsqlite3-0 libpq5 libiperf0; do
    echo "$depends" | grep -q "$dep" || fail "the package does not depend on $dep: $depends"
done

dpkg -x "$deb" "$tmp/root" || { fail "dpkg -x failed"; exit 1; }
expect 0 "$tmp/root/usr/bin/burette" --version && stdout_has "burette "
expect 0 "$tmp/root/usr/bin/consomme" --help
expect 0 env -u BURETTE_IMAGE_DIR "$tmp/root/usr/bin/burette" image &&
    stdout_has "$tmp/root/usr/lib/burette/bin/../guest/vmlinuz"
[ -x "$tmp/root/usr/share/burette/nightly" ] || fail "the package lacks scripts/nightly"
[ "$failures" -eq 0 ] || exit 1
