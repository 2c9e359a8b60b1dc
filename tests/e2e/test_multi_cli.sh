#!/bin/sh
# CLI tests of `burette run` with several backends or --variant, none of which boots a guest:
# the refusals (exit 2, the message naming the part at fault) and what --dry-run shows of the
# runs. Refusals that multi_run_main() makes before any VM (--test boot, -o naming a file) are
# checked here too.
#
# Usage: test_multi_cli.sh BURETTE
# Every check runs; failures are listed and the script exits 1 if there was any.
set -u
burette=$1
. "$(dirname "$0")/../support/cli_checks.sh"

expect 2 "$burette" run --variant x=vde &&
    stderr_has "--variant 'x=vde': unknown backend 'vde' (available: consomme, tap, slirp, passt)"
expect 2 "$burette" run --variant x=consomme:queues=2 &&
    stderr_has "unknown option 'queues' for consomme (available: qemu, tcp-rx-buffer, tcp-tx-buffer, transport, sandbox, mtu)"
expect 2 "$burette" run --variant x=tap:tcp-rx-buffer=1M &&
    stderr_has "option 'tcp-rx-buffer' is consomme's, not tap's"
expect 2 "$burette" run --variant x=consomme:tcp-tx-buffer=4M:16K &&
    stderr_has "tcp-tx-buffer: initial size 4M is larger than the maximum 16K"
expect 2 "$burette" run --variant a=consomme --variant a=tap &&
    stderr_has "two runs are labelled 'a'"
expect 2 "$burette" run --backend consomme,tap --variant consomme:tcp-rx-buffer=1M &&
    stderr_has "two runs are labelled 'consomme'"
expect 2 "$burette" run --variant "a/b=consomme" && stderr_has "LABEL.json"
expect 2 "$burette" run --order random && stderr_has "--order: unknown value 'random'"
grep -qF -- "Try 'burette run --help'" "$tmp/err" || fail "no help hint: $(cat "$tmp/err")"

# --dry-run: the --backend list first, then the variants, each with its own bounds
expect 0 "$burette" run --dry-run --tcp-tx-buffer 64K --backend tap,consomme \
    --variant f=consomme:tcp-rx-buffer=256K --order sequential &&
    python3 - "$tmp/out" <<'PY' || fail "run --dry-run with variants"
import json, sys
o = json.load(open(sys.argv[1]))
runs = o["runs"]
assert [r["label"] for r in runs] == ["tap", "consomme", "f"], runs
assert [r["backend"] for r in runs] == ["tap", "consomme", "consomme"], runs
assert runs[2]["variant"] == "f=consomme:tcp-rx-buffer=256K", runs
assert runs[2]["tcp_rx_buffer"] == {"initial": 262144, "max": 262144}, runs
assert runs[1]["tcp_rx_buffer"] == {"initial": 16384, "max": 4194304}, runs
assert runs[2]["tcp_tx_buffer"] == {"initial": 65536, "max": 65536}, runs  # the global one
assert "tcp_rx_buffer" not in runs[0] and "tcp_tx_buffer" not in runs[0], runs  # tap ignores them
assert o["order"] == "sequential", o
PY
# only variants: no default consomme run is added
expect 0 "$burette" run --dry-run --variant a=consomme --variant b=consomme &&
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"]; assert [x["label"] for x in r]==["a","b"], r' \
        "$tmp/out" || fail "variants only"

# sub-tests taking turns: recorded as the order asked for
expect 0 "$burette" run --dry-run --variant a=consomme --variant b=consomme --order subtests &&
    python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["order"]=="subtests", o' \
        "$tmp/out" || fail "--order subtests"

# refused before any guest starts
expect 2 "$burette" run --test boot --variant a=consomme --variant b=consomme &&
    stderr_has "apply to --test network and latency only"
: >"$tmp/file"
expect 2 "$burette" run --variant a=consomme --variant b=consomme -o "$tmp/file" &&
    stderr_has "not a directory"

expect 0 "$burette" run --help && grep -qF -- "--variant [LABEL=]BACKEND" "$tmp/out" ||
    fail "help lacks --variant"

[ "$failures" -eq 0 ] || exit 1
echo "all checks passed"
