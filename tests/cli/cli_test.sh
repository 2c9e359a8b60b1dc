#!/bin/sh
# CLI tests of burette: exit statuses and messages of `compare`, `report` and `run`'s option
# parsing, driven through the real binary.
#
# Usage: cli_test.sh BURETTE DATA_DIR SUITE   (SUITE: compare, report, run, main)
# Every check runs; failures are listed and the script exits 1 if there was any.
set -u
burette=$1
data=$2
suite=$3
. "$(dirname "$0")/../support/cli_checks.sh"

# usage_error CMD FLAG ARGS... : exit 2, one line naming FLAG, then the help hint, nothing else.
usage_error() {
    cmd=$1
    flag=$2
    shift 2
    expect 2 "$burette" "$cmd" "$@" || return
    lines=$(wc -l <"$tmp/err")
    [ "$lines" -eq 2 ] || fail "'$cmd $*': $lines lines on stderr, expected 2"
    head -n1 "$tmp/err" | grep -qF -- "$flag" || fail "'$cmd $*': first line does not name $flag"
    tail -n1 "$tmp/err" | grep -qF "Try 'burette $cmd --help'." || fail "'$cmd $*': no help hint"
    [ ! -s "$tmp/out" ] || fail "'$cmd $*': wrote to stdout"
}

is_json() {
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null ||
        fail "$1 is not valid JSON"
}

suite_compare() {
    base=$data/base.json
    same=$data/candidate_same.json
    drop=$data/candidate_drop.json
    plain=$data/openvmm_plain.json

    # A/A: no regression, with or without the gate.
    expect 0 "$burette" compare "$base" "$same" --fail-on-regression && stdout_has unchanged
    # A 10% drop: reported, but only fails the gate when asked to.
    expect 0 "$burette" compare "$base" "$drop" && stdout_has regressed
    expect 1 "$burette" compare "$base" "$drop" --fail-on-regression &&
        stderr_has "2 metrics of the gate regressed"
    # The gate: only the metrics it takes fail the job; the rest are named, outside it.
    expect 1 "$burette" compare "$base" "$drop" --fail-on-regression --gate rates &&
        stderr_has "1 metric of the gate regressed" &&
        stdout_has "boot_time_ms (candidate_drop): regressed, outside the gate (--gate rates)"
    expect 0 "$burette" compare "$base" "$drop" --fail-on-regression --gate '*_udp_*'
    expect 2 "$burette" compare "$base" "$drop" --gate 'rates,*_tpc_tx_*' &&
        stderr_has "'*_tpc_tx_*' matches no metric of these reports"
    expect 2 "$burette" compare "$base" "$drop" --gate 'rates,' && stderr_has "an empty term"
    # Options after the reports work as well (GNU argument order).
    expect 1 "$burette" compare --fail-on-regression "$base" "$drop"
    # A threshold above the drop: nothing regressed.
    expect 0 "$burette" compare --threshold 15 --fail-on-regression "$base" "$drop"
    # A resolution requirement: reports whose spread could hide a 10% drop are inconclusive
    # (exit 3, the runs that would do named), a requirement they meet passes, a regression
    # still wins, and a requirement finer than the threshold is bad usage.
    aa=$data/../aa/4
    expect 3 "$burette" compare --require-detectable 10 "$aa/a.json" "$aa/b.json" &&
        stderr_has "inconclusive: 3 throughput or rate metrics" &&
        stdout_has "about " && stdout_has "runs per side would"
    expect 0 "$burette" compare --require-detectable 10 "$base" "$same" --fail-on-regression
    expect 1 "$burette" compare --require-detectable 10 "$base" "$drop" --fail-on-regression
    expect 2 "$burette" compare --require-detectable 3 "$base" "$same" &&
        stderr_is "burette compare: a required resolution of 3% is finer than the threshold (5%), below which no change is ever called: require at least the threshold, or lower it"
    usage_error compare --require-detectable --require-detectable 0 "$base" "$same"
    # N-way, mixing OpenVMM's plain format in.
    expect 1 "$burette" compare "$base" "$same" "$plain" "$drop" --fail-on-regression &&
        stdout_has candidate_same && stdout_has openvmm_plain
    expect 0 "$burette" compare "$plain" "$same" --fail-on-regression && stdout_has "(w)"
    # Formats.
    expect 1 "$burette" compare -f json "$plain" "$drop" --fail-on-regression &&
        is_json "$tmp/out"
    expect 0 "$burette" compare --format markdown "$base" "$drop" &&
        stdout_has "| metric | unit |"
    # -o writes the file and nothing to stdout.
    expect 0 "$burette" compare -o "$tmp/cmp.json" --format json "$base" "$drop" &&
        is_json "$tmp/cmp.json"
    [ ! -s "$tmp/out" ] || fail "compare -o wrote to stdout"
    expect 1 "$burette" compare -o "$tmp/no/such/dir.txt" "$base" "$drop" &&
        stderr_has "$tmp/no/such/dir.txt"
    # Stdin as a report.
    expect 0 "$burette" compare - "$same" <"$base"
    # Two reports of one interleaved run of 10 rounds are paired, unless --unpaired.
    aa=$data/../aa/6
    expect 0 "$burette" compare "$aa/a.json" "$aa/b.json" && stdout_has "(pd)" &&
        stdout_has "a vs b: samples paired round by round (one interleaved run, 10 rounds)"
    expect 0 "$burette" compare --unpaired "$aa/a.json" "$aa/b.json" &&
        stdout_has "a vs b: one interleaved run, 10 rounds, unpaired test as asked"
    expect 0 "$burette" compare "$base" "$same" &&
        stdout_has "unpaired test (not one interleaved run"

    # Bad input: exit 2, the file named.
    expect 2 "$burette" compare "$base" "$data/malformed.json" &&
        stderr_has "malformed.json: not valid JSON"
    expect 2 "$burette" compare "$data/no_results.json" "$base" &&
        stderr_has 'no_results.json: not a burette report (no "results" array)'
    expect 2 "$burette" compare "$base" "$data/units_mismatch.json" &&
        stderr_has "different units" && stderr_has "units_mismatch"
    expect 2 "$burette" compare "$base" "$data/not_json.txt" && stderr_has "not_json.txt"
    expect 2 "$burette" compare "$base" "$tmp/absent.json" &&
        stderr_has "$tmp/absent.json: cannot open: No such file or directory"
    expect 2 "$burette" compare "$base" "gopher://127.0.0.1/x.json" &&
        stderr_has "unsupported URL scheme"

    # Bad usage.
    usage_error compare --threshold --threshold -1 "$base" "$same"
    usage_error compare --threshold --threshold 5% "$base" "$same"
    usage_error compare --alpha --alpha 0 "$base" "$same"
    usage_error compare --alpha --alpha 1.5 "$base" "$same"
    usage_error compare --format --format pdf "$base" "$same"
    usage_error compare --bogus --bogus "$base" "$same"
    usage_error compare --output "$base" "$same" --output
    usage_error compare CANDIDATE "$base"
    expect 0 "$burette" compare --help && stdout_has "Usage: burette compare"
}

suite_report() {
    expect 0 "$burette" report "$data/base.json" && stdout_has net_virtio-net_tcp_tx_gbps
    expect 0 "$burette" report -f markdown "$data/base.json" "$data/openvmm_plain.json" &&
        stdout_has "| report | metric |"
    # JSON of one report is a report: it reads back.
    expect 0 "$burette" report --format json -o "$tmp/again.json" "$data/base.json" &&
        is_json "$tmp/again.json"
    expect 0 "$burette" compare "$data/base.json" "$tmp/again.json" --fail-on-regression
    expect 0 "$burette" report -f json "$data/base.json" "$data/openvmm_plain.json" &&
        is_json "$tmp/out" && stdout_has '"reports"'
    expect 2 "$burette" report "$data/base.json" "$data/malformed.json" &&
        stderr_has "malformed.json"
    [ ! -s "$tmp/out" ] || fail "report printed something before refusing a bad input"
    usage_error report REPORT
    usage_error report --format --format pdf "$data/base.json"
    usage_error report --bogus --bogus "$data/base.json"
    expect 0 "$burette" report --help && stdout_has "Usage: burette report"
}

suite_run() {
    usage_error run --test --test ping
    usage_error run --test --test
    usage_error run --backend --backend vde
    usage_error run --backend --backend consomme,vde
    usage_error run --backend --backend consomme,,tap
    usage_error run --backend --backend tap,tap
    usage_error run --nic --nic e1000
    usage_error run --nic --nic vmbus
    usage_error run --accel --accel hvf
    usage_error run --vcpus --vcpus 0
    usage_error run --vcpus --vcpus two
    usage_error run --mem-mb --mem-mb 12
    usage_error run --iterations --iterations 0
    usage_error run --iterations --iterations -3
    usage_error run --warmup --warmup x
    usage_error run --duration --duration 0
    usage_error run --streams --streams 1000
    # sweeps: every value checked, each once, and only where they mean something
    usage_error run --streams --streams 1,1
    usage_error run --streams --streams 1,,4
    usage_error run --streams --streams 4,
    usage_error run --streams --streams 1,2,3,4,5,6,7,8,9
    usage_error run --streams --streams 1,4 --test latency
    usage_error run --mtu --mtu 575
    usage_error run --mtu --mtu 1500,65521
    usage_error run --mtu --mtu 9000 --test boot
    usage_error run --mtu --mtu 1500,9000 --test latency
    usage_error run --mtu --mtu 9000 --backend slirp
    usage_error run --mtu --mtu 1500,9000 --backend tap --variant q=slirp
    # the MTU given twice: for every run and in a variant of consomme
    usage_error run --mtu --mtu 9000 --variant a=consomme:mtu=1500
    expect 2 "$burette" run --dry-run --mtu 9000 --backend consomme,slirp &&
        stderr_has "run slirp" && stderr_has "fixed at 1500"
    # slirp's own MTU is no change: accepted, and recorded
    expect 0 "$burette" run --dry-run --mtu 1500 --backend slirp && stdout_has '"mtu": 1500'
    usage_error run --format --format pdf
    usage_error run --tcp-rx-buffer --tcp-rx-buffer 0
    usage_error run --tcp-rx-buffer --tcp-rx-buffer 4M:16K
    usage_error run --tcp-tx-buffer --tcp-tx-buffer 16K:2G
    usage_error run --tcp-tx-buffer --tcp-tx-buffer 16K:
    usage_error run --tcp-tx-buffer --tcp-tx-buffer lots
    usage_error run --output --output ""
    usage_error run --quiet --quiet=yes
    usage_error run --bogus --bogus
    usage_error run -x -x
    usage_error run extra extra
    expect 2 "$burette" run --nic vmbus && stderr_has "OpenVMM" && stderr_has "virtio-net"
    # the gate's options judge a comparison: refused for one run, checked before anything runs
    expect 2 "$burette" run --dry-run --fail-on-regression &&
        stderr_has "one run has nothing to compare with"
    expect 2 "$burette" run --dry-run --gate rates --backend tap && stderr_has "--gate judges"
    usage_error run --gate --backend tap,consomme --gate 'rates,'
    usage_error run --require-detectable --backend tap,consomme --require-detectable 0
    usage_error run --require-detectable --backend tap,consomme --require-detectable 10%
    expect 0 "$burette" run --dry-run --backend tap,consomme --fail-on-regression --gate rates \
        --require-detectable 10

    # What passes is stored as given: defaults, a backend list, fixed and autotuned buffers.
    expect 0 "$burette" run --dry-run && is_json "$tmp/out" &&
        python3 - "$tmp/out" <<'PY' || fail "run --dry-run defaults"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["test"] == "network" and o["backend"] == "consomme" and o["nic"] == "virtio-net", o
assert (o["vcpus"], o["mem_mb"], o["iterations"], o["warmup"]) == (2, 1024, 5, 1), o
assert (o["duration_s"], o["streams"], o["format"]) == (10, 1, "text"), o
assert o["tcp_rx_buffer"] == {"initial": 16384, "max": 4194304}, o
assert o["tcp_tx_buffer"] == {"initial": 16384, "max": 4194304}, o
PY
    expect 0 "$burette" run --dry-run --backend consomme,tap,slirp,passt --test boot \
        --tcp-rx-buffer 256K --tcp-tx-buffer 64K:1G --format html -q -o r.json &&
        python3 - "$tmp/out" <<'PY' || fail "run --dry-run values"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["backend"] == "consomme,tap,slirp,passt" and o["test"] == "boot", o
assert o["tcp_rx_buffer"] == {"initial": 262144, "max": 262144}, o
assert o["tcp_tx_buffer"] == {"initial": 65536, "max": 1073741824}, o
assert o["format"] == "html" and o["quiet"] is True and o["output"] == "r.json", o
PY
    # bounds only consomme takes are not recorded for a run without it
    expect 0 "$burette" run --dry-run --backend tap,slirp --tcp-rx-buffer 256K &&
        python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert "tcp_rx_buffer" not in o and "tcp_tx_buffer" not in o, o' \
            "$tmp/out" || fail "run --dry-run without consomme records no buffer bounds"
    expect 0 "$burette" run --help && stdout_has "--tcp-rx-buffer"
}

suite_main() {
    expect 0 "$burette" --version && stdout_has "burette "
    expect 0 "$burette" --help && stdout_has compare
    expect 2 "$burette" && stderr_has "Usage"
    expect 2 "$burette" frobnicate && stderr_has "unknown command 'frobnicate'"
}

case $suite in
compare | report | run | main) "suite_$suite" ;;
*)
    echo "unknown suite $suite" >&2
    exit 2
    ;;
esac
[ "$failures" -eq 0 ] || {
    echo "$failures check(s) failed"
    exit 1
}
echo "all checks passed"
