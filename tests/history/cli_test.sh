#!/bin/sh
# CLI tests of `burette history` and `burette package`, through the real binary: exit
# statuses, messages, the outputs of every subcommand, the nightly gate on a generated history,
# the HTML page (well-formed XML, untrusted text escaped), and the tarball run from where it is
# unpacked.
#
# Usage: cli_test.sh BURETTE DATA_DIR SUITE   (SUITE: history, package)
set -u
burette=$1
data=$2
suite=$3
. "$(dirname "$0")/../support/cli_checks.sh"
db=$tmp/h.sqlite

# A history of 24 nights: tcp_tx at 2.0 Gbps for 20 nights, then at 1.6 (a 20% drop 4 runs
# ago); boot time flat. Samples are the mean +-1%.
make_history() {
    python3 - "$tmp/gen" <<'PY'
import json, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for i in range(24):
    tx = 2.0 if i < 20 else 1.6
    res = []
    for name, unit, m in (("net_virtio-net_tcp_tx_gbps", "Gbps", tx), ("boot_time_ms", "ms", 2500.0)):
        xs = [m * 0.99, m, m * 1.01]
        res.append({"name": name, "unit": unit, "iterations": 3, "mean": m,
                    "std_dev": m * 0.01, "min": xs[0], "max": xs[2], "samples": xs})
    doc = {"git_revision": f"rev{i:02d}", "git_branch": "main", "git_commit_date": "",
           "date": f"2026-10-{i + 1:02d}T01:00:00Z",
           "config": {"test": "network", "backend": "consomme", "nic": "virtio-net"},
           "host": {"cpu_model": "Test CPU", "cpu_count": 2, "qemu_version": "10.0.2"},
           "results": res}
    with open(os.path.join(out, f"night{i:02d}.json"), "w") as f:
        json.dump(doc, f)
PY
}

history_suite() {
    expect 0 "$burette" history --help && stdout_has "detect"
    expect 2 "$burette" history && stderr_has "Usage: burette history"
    expect 2 "$burette" history frobnicate && stderr_has "unknown subcommand 'frobnicate'"
    expect 2 "$burette" history add --db "$db" && stderr_has "needs at least one REPORT"
    expect 2 "$burette" history list --db "$db" "$data/base.json" && stderr_has "history add"
    expect 2 "$burette" history add --db "$db" --fail-on-change "$data/base.json" &&
        stderr_has "option '--fail-on-change' does not apply to 'add'"
    # an option that takes a value is named, not its value
    expect 2 "$burette" history add --db "$db" --metric x "$data/base.json" &&
        stderr_has "option '--metric' does not apply to 'add'"
    expect 2 "$burette" history detect --db "$db" --min-magnitude ten &&
        stderr_has "--min-magnitude: 'ten' is not a number"
    expect 2 "$burette" history detect --db "$db" --format xml && stderr_has "unknown format 'xml'"
    expect 2 "$burette" history report --db "$db" --format text && stderr_has "available: html"

    # a PostgreSQL server that is not there: one line naming it and what to check
    expect 1 "$burette" history add --db 'postgresql://nobody@/x?host=/nonexistent' \
        "$data/base.json" && stderr_has "cannot connect to PostgreSQL" &&
        stderr_has "check the --db URL"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "the connection error is not one line"

    # reading before anything was added: says how to start, creates nothing
    expect 1 "$burette" history list --db "$db" && stderr_has "burette history add --db"
    [ ! -e "$db" ] || fail "history list created $db"

    # a bad report among good ones: named, and nothing is added
    expect 2 "$burette" history add --db "$db" "$data/base.json" "$data/malformed.json" &&
        stderr_has "malformed.json"
    [ ! -e "$db" ] || fail "a refused add created $db"

    expect 0 "$burette" history add --db "$db" "$data/base.json" "$data/candidate_drop.json" &&
        stdout_has "added 2 reports, 0 already stored"
    expect 0 "$burette" history add --db "$db" "$data/base.json" &&
        stdout_has "added 0 reports, 1 already stored"
    expect 0 "$burette" history list --db "$db" && stdout_has "net_virtio-net_tcp_tx_gbps" &&
        stdout_has "Test CPU, 2 cores, qemu unknown"
    expect 0 "$burette" history list --db "$db" --format json --metric boot_time_ms &&
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r)==2, r' \
            "$tmp/out" || fail "list --metric boot_time_ms: not 2 rows"
    expect 0 "$burette" history export --db "$db" -o "$tmp/export.json" &&
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r)==2 and r[0]["results"], r' \
            "$tmp/export.json" || fail "export: not the 2 reports added"
    expect 0 "$burette" history list --db "$db" --branch nope && stderr_has "no stored results match"

    # the gate on a generated history: a 20% drop 4 runs ago
    make_history
    hdb=$tmp/gate.sqlite
    expect 0 "$burette" history add --db "$hdb" "$tmp"/gen/*.json && stdout_has "added 24 reports"
    expect 0 "$burette" history detect --db "$hdb" && stdout_has "regression (recent)" &&
        stdout_has "rev19..rev20"
    expect 1 "$burette" history detect --db "$hdb" --fail-on-change &&
        stderr_has "a recent regression is the newest change point"
    expect 0 "$burette" history detect --db "$hdb" --fail-on-change --last-runs 3
    expect 1 "$burette" history detect --db "$hdb" --fail-on-change --format json -o "$tmp/d.json"
    python3 - "$tmp/d.json" <<'PY' || fail "detect json: not the one change point expected"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["fail"] is True, d
cps = d["change_points"]
assert len(cps) == 1, cps
c = cps[0]
assert c["metric"] == "net_virtio-net_tcp_tx_gbps" and c["index"] == 20, c
assert c["revision_before"] == "rev19" and c["revision_after"] == "rev20", c
assert abs(c["change"] + 0.2) < 1e-9 and c["verdict"] == "regression" and c["recent"], c
assert c["p"] < 0.01, c
PY
    expect 0 "$burette" history detect --db "$hdb" --format markdown &&
        stdout_has "## burette history: change points" && stdout_has "| net_virtio-net_tcp_tx_gbps"
    # a drop below the magnitude threshold is not a change
    expect 0 "$burette" history detect --db "$hdb" --min-magnitude 25 &&
        stdout_has "0 change points"

    expect 0 "$burette" history report --db "$hdb" -o "$tmp/page.html"
    python3 - "$tmp/page.html" <<'PY' || fail "history page: not well-formed or incomplete"
import sys, xml.etree.ElementTree as ET
text = open(sys.argv[1], encoding="utf-8").read()
ET.fromstring(text.split("\n", 1)[1])  # after the doctype
assert text.count("<svg") == 2, "one chart per series"
assert "rev19..rev20" in text and "regression (recent)" in text
assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/", "")
PY
    # untrusted text from a report never becomes markup
    idb=$tmp/inj.sqlite
    expect 0 "$burette" history add --db "$idb" "$data/injection.json"
    expect 0 "$burette" history report --db "$idb" -o "$tmp/inj.html"
    python3 - "$tmp/inj.html" <<'PY' || fail "history page of injection.json: markup leaked"
import sys, xml.etree.ElementTree as ET
text = open(sys.argv[1], encoding="utf-8").read()
ET.fromstring(text.split("\n", 1)[1])
assert "<script" not in text and "<img" not in text and "<style>body{background:url" not in text
PY
}

package_suite() {
    expect 2 "$burette" package && stderr_has "needs -o FILE.tar.gz"
    expect 2 "$burette" package -o "$tmp/x.tar.gz" extra && stderr_has "unexpected argument"
    expect 1 "$burette" package -o "$tmp/no/such/dir/x.tar.gz" && stderr_has "cannot create"
    expect 1 "$burette" package --image-dir "$tmp/empty" -o "$tmp/x.tar.gz" &&
        stderr_has "no guest image"
    [ ! -e "$tmp/x.tar.gz" ] || fail "a failed package left $tmp/x.tar.gz"
    expect 0 "$burette" package -o "$tmp/p.tar.gz" && stdout_has "wrote"
    mkdir -p "$tmp/unpacked"
    tar -xzf "$tmp/p.tar.gz" -C "$tmp/unpacked" || fail "the tarball does not unpack"
    top=$(ls "$tmp/unpacked")
    for f in burette README bin/burette bin/consomme guest/vmlinuz guest/initramfs.cpio.gz; do
        [ -e "$tmp/unpacked/$top/$f" ] || fail "the tarball lacks $f"
    done
    ls "$tmp/unpacked/$top/lib" | grep -q '^libjansson' || fail "the tarball lacks libjansson"
    ls "$tmp/unpacked/$top/lib" | grep -q '^libc\.so' && fail "the tarball carries libc"
    expect 0 "$tmp/unpacked/$top/burette" --version && stdout_has "burette "
    # the unpacked burette finds its own image, not the build tree's
    expect 0 env -u BURETTE_IMAGE_DIR "$tmp/unpacked/$top/burette" image &&
        stdout_has "$tmp/unpacked/$top/bin/../guest"
    ls "$tmp" | grep -q '\.tar\.gz\.' && fail "a temporary tarball was left behind"
}

case $suite in
history) history_suite ;;
package) package_suite ;;
*) echo "cli_test.sh: unknown suite $suite" >&2; exit 2 ;;
esac
[ "$failures" -eq 0 ] || exit 1
