#!/bin/sh
# scripts/nightly, twice, on a short real configuration (one boot per night: 1 iteration of 1 s
# per sub-test, no warmup) against a temporary SQLite history: both nights pass the gate, the
# history holds two runs per metric, the summary says so, the page is written. Then a night
# whose run cannot start adds nothing and fails.
#
# Usage: nightly_test.sh SCRIPTS_DIR BURETTE
set -u
scripts=$1
burette=$2
. "$(dirname "$0")/../support/cli_checks.sh"
db=$tmp/nightly.sqlite

for night in 1 2; do
    expect 0 sh "$scripts/nightly" --burette "$burette" --db "$db" --out "$tmp/out$night" -- \
        --iterations 1 --warmup 0 --duration 1 -q || continue
    stdout_has "## burette history: change points"
    stdout_has "gate: pass"
    [ -s "$tmp/out$night/summary.md" ] || fail "night $night: no summary.md"
    [ -s "$tmp/out$night/history.html" ] || fail "night $night: no history.html"
    ls "$tmp/out$night"/report-*.json >/dev/null 2>&1 || fail "night $night: no report kept"
done
expect 0 "$burette" history list --db "$db" --format json --metric net_virtio-net_tcp_tx_gbps
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r)==2, r' "$tmp/out" ||
    fail "the history does not hold the two nights"
grep -q "over .* results" "$tmp/out2/summary.md" || fail "the second summary has no counts"

# a gate that names no stored metric is refused, not a gate that guards nothing
report=$(ls "$tmp/out2"/report-*.json | head -n1)
expect 2 sh "$scripts/nightly" --burette "$burette" --db "$db" --out "$tmp/gate" \
    --report "$report" --gate 'rates,*_tpc_tx_*' && stderr_has "matches no stored metric"
expect 0 sh "$scripts/nightly" --burette "$burette" --db "$db" --out "$tmp/gate" \
    --report "$report" --gate 'rates,*_tcp_tx_*' && stdout_has "gate: pass"

expect 1 sh "$scripts/nightly" --burette "$burette" --db "$db" --out "$tmp/bad" -- \
    --iterations 1 --backend no-such-backend && stderr_has "nothing was added"
expect 2 sh "$scripts/nightly" --bogus && stderr_has "unknown option '--bogus'"
[ "$failures" -eq 0 ] || exit 1
