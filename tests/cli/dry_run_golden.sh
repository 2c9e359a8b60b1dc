#!/bin/sh
# `burette run --dry-run` prints, byte for byte, what was recorded for each option set in
# DATA_DIR/cases (single and several backends, variants, every global option): the runs a
# command line stands for must not change when the code behind them is reorganised. Every case
# runs with a stand-in qemu-system-x86_64 first in PATH that says it is 10.0.2, so the output (qemu_version, consomme's
# transport settled from it) does not depend on the QEMU this machine has.
#
# Usage: dry_run_golden.sh BURETTE DATA_DIR
set -u
burette=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
printf '#!/bin/sh\necho "QEMU emulator version 10.0.2 (stand-in)"\n' >"$tmp/qemu-system-x86_64"
chmod +x "$tmp/qemu-system-x86_64"
PATH=$tmp:$PATH
export PATH
failed=0
while read -r name args; do
    case $name in '' | '#'*) continue ;; esac
    # shellcheck disable=SC2086 # the recorded arguments are split as a shell would
    "$burette" run --dry-run $args >"$tmp/$name.json" 2>"$tmp/err"
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAIL $name: exit status $status ($(head -n1 "$tmp/err"))"
        failed=1
    elif ! cmp -s "$data/$name.json" "$tmp/$name.json"; then
        echo "FAIL $name: output differs from $name.json:"
        diff -u "$data/$name.json" "$tmp/$name.json" | head -n 40
        failed=1
    fi
done <"$data/cases"
[ "$failed" -eq 0 ] && echo "all dry-run outputs match"
exit "$failed"
