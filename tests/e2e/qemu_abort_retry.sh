#!/bin/sh
# A QEMU that aborts while the guest boots (QEMU 10.0.2 under TCG does, now and then: see
# VM_BOOT_ATTEMPTS in vm.h) costs one more boot, said on the progress output, not the run; a
# QEMU that aborts again fails the run with a message naming the abort. The stand-in QEMU is
# a script that passes every call to the real one, except that it kills itself with SIGABRT on
# the first ABORTS calls that boot a guest. Checked after each run: no process left, TMPDIR
# empty. As root burette runs the stand-in as nobody: it must reach the script and its counter.
#
# Usage: qemu_abort_retry.sh BURETTE (BURETTE_IMAGE_DIR set, as for every VM test)
set -u
burette=$1
. "$(dirname "$0")/../support/cli_checks.sh"

real_qemu=$(command -v qemu-system-x86_64) || {
    echo "qemu-system-x86_64 not found: install qemu-system-x86"
    exit 1
}
cat >"$tmp/qemu" <<SH
#!/bin/sh
case " \$* " in
*" -kernel "*)
    n=\$(cat "$tmp/boots" 2>/dev/null || echo 0)
    echo \$((n + 1)) >"$tmp/boots"
    [ "\$n" -ge "\$ABORTS" ] || kill -ABRT \$\$
    ;;
esac
exec "$real_qemu" "\$@"
SH
chmod 755 "$tmp/qemu"
chmod 711 "$tmp"

# run_with_aborts N STATUS : a one-iteration consomme network run whose first N boots abort
run_with_aborts() {
    rm -f "$tmp/r.json"
    echo 0 >"$tmp/boots" && chmod 666 "$tmp/boots"
    rm -rf "$tmp/run-tmp" "$tmp/logs"
    mkdir "$tmp/run-tmp"
    ABORTS=$1 TMPDIR=$tmp/run-tmp expect "$2" "$burette" run --accel tcg --qemu "$tmp/qemu" \
        --iterations 1 --warmup 0 --duration 1 --mem-mb 512 --log-dir "$tmp/logs" \
        -o "$tmp/r.json"
    [ -z "$(ls -A "$tmp/run-tmp")" ] || fail "TMPDIR not empty: $(ls -A "$tmp/run-tmp")"
    left=$(pgrep -f -- "$tmp/" | grep -v "^$$\$" || true)
    [ -z "$left" ] || fail "processes left behind: $(ps -o pid,args -p "$left")"
}

# One abort: retried once, said so, and the run completes with the retry's boot.
run_with_aborts 1 0 &&
    stderr_has "network: booting again (attempt 2 of 2): QEMU killed by signal 6" &&
    [ -s "$tmp/r.json" ] || fail "no report after a retried boot"
[ "$(cat "$tmp/boots")" = 2 ] || fail "$(cat "$tmp/boots") boots, expected 2"
[ -e "$tmp/logs/network-boot2-console.log" ] || fail "no console log of the second boot"

# Two aborts: no third try; the error names the abort and the run fails.
run_with_aborts 2 1 && stderr_has "QEMU killed by signal 6"
[ "$(cat "$tmp/boots")" = 2 ] || fail "$(cat "$tmp/boots") boots, expected 2"
[ ! -e "$tmp/r.json" ] || fail "a failed run wrote a report"

[ "$failures" -eq 0 ] || exit 1
