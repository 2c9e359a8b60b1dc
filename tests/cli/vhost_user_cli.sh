#!/bin/sh
# CLI tests of consomme's transport and of --qemu, through the real binary; no guest boots.
# Fake QEMUs are two-line scripts printing what Debian's qemu-system-x86 7.2 and 10.0.2 print
# for --version, so the checks do not depend on the QEMU installed. --accel tcg throughout:
# vhost-user needs QEMU 10 under TCG only.
#
# Usage: vhost_user_cli.sh BURETTE
# Every check runs; failures are listed and the script exits 1 if there was any.
set -u
burette=$1
. "$(dirname "$0")/../support/cli_checks.sh"

printf '#!/bin/sh\necho "QEMU emulator version 7.2.0 (Debian 1:7.2+dfsg-7+deb12u7)"\n' >"$tmp/qemu-old"
printf '#!/bin/sh\necho "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)"\n' >"$tmp/qemu-new"
printf '#!/bin/sh\necho "not a QEMU"\n' >"$tmp/not-qemu"
printf 'QEMU emulator version 10.0.2\n' >"$tmp/not-executable"
chmod 755 "$tmp/qemu-old" "$tmp/qemu-new" "$tmp/not-qemu"
old=$tmp/qemu-old
new=$tmp/qemu-new

# dry_run_has EXPR : the last --dry-run's JSON (as o) satisfies the Python expression EXPR.
dry_run_has() {
    python3 - "$tmp/out" "$1" <<'PY' || fail "--dry-run output: $1 does not hold: $(cat "$tmp/out")"
import json, sys
o = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}

# no_notice : nothing on stderr (no fallback line where none is due).
no_notice() {
    [ ! -s "$tmp/err" ] || fail "unexpected stderr: $(cat "$tmp/err")"
}

# Default with a QEMU that can: vhost-user, silently; the version lands in the dry run.
expect 0 "$burette" run --dry-run --accel tcg --qemu "$new" && no_notice &&
    dry_run_has 'o["transport"] == "vhost-user" and o["qemu_version"] == "10.0.2"' &&
    dry_run_has 'o["qemu"] == sys.argv[1].rsplit("/", 1)[0] + "/qemu-new"'

# Default with an old QEMU: stream, and exactly one line saying why and what to do.
expect 0 "$burette" run --dry-run --accel tcg --qemu "$old" &&
    dry_run_has 'o["transport"] == "stream" and o["qemu_version"] == "7.2.0"' &&
    stderr_has "burette: consomme: transport stream instead of vhost-user: QEMU 7.2.0" &&
    stderr_has "scripts/install-deps" && stderr_has "bookworm-backports"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "fallback: $(wc -l <"$tmp/err") lines, expected 1"
# ... even with -q, since it changes what the run measures
expect 0 "$burette" run --dry-run -q --accel tcg --qemu "$old" && stderr_has "transport stream"

# Asked for vhost-user with an old QEMU: refused before anything starts, naming version and fix.
expect 2 "$burette" run --accel tcg --qemu "$old" --transport vhost-user -o "$tmp/r.json" &&
    stderr_has "transport=vhost-user refused: QEMU 7.2.0" && stderr_has "scripts/install-deps" &&
    stderr_has "QEMU 10" && stderr_has "Try 'burette run --help'."
[ ! -e "$tmp/r.json" ] || fail "a refused run wrote a report"
expect 2 "$burette" run --accel tcg --variant vu=consomme:transport=vhost-user,qemu="$old" &&
    stderr_has "vu: consomme: transport=vhost-user refused: QEMU 7.2.0"

# Asked for stream: stream, no notice, with any QEMU.
expect 0 "$burette" run --dry-run --accel tcg --qemu "$old" --transport stream && no_notice &&
    dry_run_has 'o["transport"] == "stream"'
expect 0 "$burette" run --dry-run --accel tcg --qemu "$new" --transport stream && no_notice &&
    dry_run_has 'o["transport"] == "stream"'
expect 2 "$burette" run --transport tap && stderr_has "--transport: unknown transport 'tap'" &&
    stderr_has "vhost-user, stream"

# Backends other than consomme record the QEMU version, not a transport.
expect 0 "$burette" run --dry-run --accel tcg --qemu "$old" --backend tap && no_notice &&
    dry_run_has '"transport" not in o["runs"][0] and o["qemu_version"] == "7.2.0"'

# The boot test has its own NIC: no transport, no fallback line, but the QEMU version.
expect 0 "$burette" run --dry-run --test boot --accel tcg --qemu "$old" && no_notice &&
    dry_run_has '"transport" not in o and o["qemu_version"] == "7.2.0"'

# Variants: one transport each, two QEMUs A/B; the fallback line once per QEMU.
expect 0 "$burette" run --dry-run --accel tcg --qemu "$new" \
    --variant vu=consomme:transport=vhost-user --variant st=consomme:transport=stream \
    --variant old=consomme:qemu="$old" --variant old2=consomme:qemu="$old" &&
    dry_run_has '[r["transport"] for r in o["runs"]] == ["vhost-user", "stream", "stream", "stream"]' &&
    dry_run_has '[r["qemu_version"] for r in o["runs"]] == ["10.0.2", "10.0.2", "7.2.0", "7.2.0"]' &&
    dry_run_has '"transport" not in o' &&
    stderr_has "QEMU 7.2.0"
[ "$(grep -c 'transport stream instead' "$tmp/err")" -eq 1 ] ||
    fail "two variants on one old QEMU: expected one fallback line: $(cat "$tmp/err")"

# --qemu-user, like --qemu, lands in the config only when chosen (its default depends on who
# runs burette). As root the chosen user is nobody; otherwise only burette's own user is allowed.
if [ "$(id -u)" -eq 0 ]; then qemu_user=nobody; else qemu_user=$(id -un); fi
expect 0 "$burette" run --dry-run --accel tcg --qemu "$new" --qemu-user "$qemu_user" &&
    dry_run_has "o['qemu_user'] == '$qemu_user'"
expect 0 "$burette" run --dry-run --accel tcg --qemu "$new" && dry_run_has '"qemu_user" not in o'

# A wrong --qemu: refused before anything starts, the binary named.
expect 2 "$burette" run --qemu "$tmp/none" && stderr_has "--qemu $tmp/none: No such file"
expect 2 "$burette" run --qemu "$tmp/not-executable" && stderr_has "not an executable file"
expect 2 "$burette" run --qemu "$tmp" && stderr_has "not an executable file"
expect 2 "$burette" run --qemu "$tmp/not-qemu" && stderr_has "'not a QEMU'" &&
    stderr_has "QEMU emulator version X.Y.Z"
expect 2 "$burette" run --qemu "" && stderr_has "--qemu: empty path"
expect 2 "$burette" run --variant x=tap:qemu="$tmp/none" && stderr_has "x: --qemu $tmp/none"
PATH=/nonexistent expect 2 "$burette" run --dry-run &&
    stderr_has "qemu-system-x86_64 not found in PATH" && stderr_has "install-deps"

[ "$failures" -eq 0 ] || exit 1
