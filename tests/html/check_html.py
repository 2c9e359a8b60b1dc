#!/usr/bin/env python3
# Tests of `--format html`: renders recorded reports (burette's format and OpenVMM's plain
# one) through the real binary, parses the page with an XML parser and checks what a reader
# relies on: one chart per metric, one mark per sample, the verdicts of `compare -f json` on
# the right rows with the right class, report text escaped, nothing fetched from outside.
#
# Usage: check_html.py BURETTE DATA_DIR
# Every check runs; failures are listed and the script exits 1 if there was any.
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

burette, data = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp()
failures = []

XMLNS = ('xmlns="http://www.w3.org/1999/xhtml"', 'xmlns="http://www.w3.org/2000/svg"')
# Elements that load or run something; a self-contained page has none of them.
FETCHING = {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source",
            "image", "use", "foreignObject", "base", "form"}


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def local(tag):
    return tag.rsplit("}", 1)[-1]


def text(e):
    return "".join(e.itertext()).strip()


def has_class(e, cls):
    return cls in (e.get("class") or "").split()


def run(args, status=0):
    p = subprocess.run([burette] + args, capture_output=True)
    check(p.returncode == status,
          f"{' '.join(args)}: exit {p.returncode}, expected {status}: {p.stderr.decode()}")
    return p


def render(name, args, status=0):
    """Render to a file with -o, parse it; returns (root, raw text) or (None, raw)."""
    out = os.path.join(tmp, name + ".html")
    run(args + ["--format", "html", "-o", out], status)
    if not check(os.path.exists(out), f"{name}: no output file"):
        return None, ""
    raw = open(out, encoding="utf-8").read()
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        check(False, f"{name}: not well-formed XML: {e}")
        return None, raw
    check(raw.startswith("<!DOCTYPE html>"), f"{name}: no HTML5 doctype")
    check(local(root.tag) == "html", f"{name}: root element is {root.tag}")
    self_contained(name, root, raw)
    return root, raw


def self_contained(name, root, raw):
    """Nothing in the page points outside it or runs code."""
    for e in root.iter():
        tag = local(e.tag)
        check(tag not in FETCHING, f"{name}: has a <{tag}> element")
        for attr, val in e.attrib.items():
            a = local(attr).lower()
            check(not a.startswith("on"), f"{name}: event handler attribute {attr}")
            check("://" not in val, f"{name}: attribute {attr}={val!r} names a URL")
            if a == "href":
                check(val.startswith("#"), f"{name}: href {val!r} leaves the page")
            check(a not in ("src", "srcset", "action", "background"),
                  f"{name}: attribute {attr} loads something")
            if a == "style":
                check("url(" not in val, f"{name}: style attribute with url()")
    styles = [e for e in root.iter() if local(e.tag) == "style"]
    check(len(styles) == 1, f"{name}: {len(styles)} <style> elements, expected 1")
    for s in styles:
        css = text(s)
        check("url(" not in css and "@import" not in css and "@font-face" not in css,
              f"{name}: stylesheet fetches something")


def no_url_text(name, raw):
    """For pages made of local reports only: no URL anywhere besides the XML namespaces."""
    stripped = raw
    for ns in XMLNS:
        stripped = stripped.replace(ns, "")
    check("http://" not in stripped and "https://" not in stripped, f"{name}: mentions a URL")


def charts(root):
    return [e for e in root.iter() if local(e.tag) == "svg"]


def count_class(root, cls):
    return sum(1 for e in root.iter() if has_class(e, cls))


def report_stats(paths):
    """Distinct metric names, total samples, and (report, metric) pairs of the inputs."""
    names, samples, pairs = [], 0, 0
    for p in paths:
        with open(p) as f:
            for r in json.load(f)["results"]:
                if r["name"] not in names:
                    names.append(r["name"])
                samples += len(r.get("samples", []))
                pairs += 1
    return names, samples, pairs


PERCENTILES = ("_p50_us", "_p90_us", "_p99_us", "_p999_us")


def percentile_families(names):
    """Stem -> the latency percentile metrics of one sub-test, for stems with two or more: they
    share one chart."""
    fam = {}
    for n in names:
        for suffix in PERCENTILES:
            if n.endswith(suffix):
                fam.setdefault(n[:-len(suffix)], []).append(n)
    return {stem: members for stem, members in fam.items() if len(members) >= 2}


def check_charts(name, root, paths):
    names, samples, pairs = report_stats(paths)
    svgs = charts(root)
    shared = sum(len(m) - 1 for m in percentile_families(names).values())
    check(len(svgs) == len(names) - shared,
          f"{name}: {len(svgs)} charts for {len(names)} metrics ({shared} sharing a chart)")
    got = count_class(root, "sample")
    check(got == samples, f"{name}: {got} sample marks for {samples} samples")
    means = count_class(root, "mean")
    check(means == pairs, f"{name}: {means} mean marks for {pairs} report metrics")
    # Every sample mark sits inside a chart, every chart names its metric in its section.
    in_svgs = sum(count_class(s, "sample") for s in svgs)
    check(in_svgs == samples, f"{name}: sample marks outside the charts")
    headings = [text(h) for h in root.iter() if local(h.tag) == "h2"]
    for n in names:
        check(n in headings, f"{name}: no section for metric {n}")
    for s in svgs:
        ticks = [e for e in s.iter() if has_class(e, "tick")]
        check(2 <= len(ticks) <= 12, f"{name}: {len(ticks)} labelled ticks on an axis")


def sections(root):
    """Metric name -> its <section> element."""
    out = {}
    for sec in root.iter():
        if local(sec.tag) != "section":
            continue
        for h in sec:
            if local(h.tag) == "h2":
                out[text(h)] = sec
    return out


def check_verdicts(name, root, paths):
    """Every candidate x metric verdict of the JSON comparison is on its row, with its class."""
    p = run(["compare", "--format", "json"] + paths)
    cmp = json.loads(p.stdout)
    secs = sections(root)
    rows = 0
    for cand in cmp["candidates"]:
        for m in cand["metrics"]:
            sec = secs.get(m["name"])
            if not check(sec is not None, f"{name}: no section for {m['name']}"):
                continue
            table = [t for t in sec.iter() if local(t.tag) == "table" and has_class(t, "cmp")]
            if not check(len(table) == 1, f"{name}: {m['name']}: no comparison table"):
                continue
            found = [tr for tr in table[0].iter() if local(tr.tag) == "tr" and
                     not has_class(tr, "baseline") and len(tr) and local(tr[0].tag) == "td" and
                     text(tr[0]) == cand["label"]]
            if not check(len(found) == 1, f"{name}: {m['name']}: no row for {cand['label']}"):
                continue
            spans = [s for s in found[0].iter() if has_class(s, "verdict")]
            want = m["verdict"]
            check(len(spans) == 1 and has_class(spans[0], want.replace(" ", "-")) and
                  text(spans[0]) == want,
                  f"{name}: {m['name']} / {cand['label']}: verdict should read {want!r}")
            rows += 1
    check(rows > 0, f"{name}: no verdict rows checked")
    return cmp


reports = {n: os.path.join(data, n + ".json") for n in
           ("base", "candidate_same", "candidate_drop", "openvmm_plain", "injection")}

# One report, burette's format: four metrics, five samples each.
root, raw = render("one", ["report", reports["base"]])
if root is not None:
    check_charts("one", root, [reports["base"]])
    no_url_text("one", raw)
    check(count_class(root, "verdict") == 0, "one: a summary shows verdicts")

# A burette report next to an OpenVMM plain one: the plain one has means and intervals, no dots.
paths = [reports["base"], reports["openvmm_plain"]]
root, raw = render("mixed", ["report"] + paths)
if root is not None:
    check_charts("mixed", root, paths)
    no_url_text("mixed", raw)
    check(count_class(root, "ci") == 7, "mixed: one CI bar per report metric (n >= 2)")

# Three-report N-way comparison with the plain format as a candidate.
paths = [reports["base"], reports["openvmm_plain"], reports["candidate_drop"]]
root, raw = render("nway3", ["compare"] + paths)
if root is not None:
    check_charts("nway3", root, paths)
    no_url_text("nway3", raw)
    cmp = check_verdicts("nway3", root, paths)
    for v in ("regressed", "improved", "unchanged"):
        check(any(has_class(e, v) for e in root.iter() if has_class(e, "verdict")),
              f"nway3: no {v} verdict shown")
    banner = [e for e in root.iter() if has_class(e, "banner")]
    check(len(banner) == 1 and has_class(banner[0], "regressed") and "Regression" in text(banner[0]),
          "nway3: the banner does not say regression")
    # The baseline's interval is drawn as a band in each chart where the baseline has the metric.
    base_metrics = len(report_stats([reports["base"]])[0])
    check(count_class(root, "baseline-ci") == base_metrics, "nway3: baseline band missing")

# Four reports, and the gate: --fail-on-regression still fails, and the page is still written.
paths = [reports["base"], reports["candidate_same"], reports["openvmm_plain"],
         reports["candidate_drop"]]
root, raw = render("nway4", ["compare", "--fail-on-regression"] + paths, status=1)
if root is not None:
    check_charts("nway4", root, paths)
    check_verdicts("nway4", root, paths)

# A/A: no regression, the banner says so.
paths = [reports["base"], reports["candidate_same"]]
root, raw = render("aa", ["compare", "--fail-on-regression"] + paths)
if root is not None:
    check_charts("aa", root, paths)
    check_verdicts("aa", root, paths)
    banner = [e for e in root.iter() if has_class(e, "banner")]
    check(len(banner) == 1 and not has_class(banner[0], "regressed"), "aa: banner says regression")
    check(count_class(root, "regressed") == 0, "aa: a regressed verdict")

# Noisy: tcp_tx samples 2.6% below the baseline's mean and all below its smallest (1.50), so the
# change is significant (exact permutation, p = 2/252) but within the 5% threshold.
with open(reports["base"]) as f:
    doc = json.load(f)
for r in doc["results"]:
    if r["name"] == "net_virtio-net_tcp_tx_gbps":
        r["samples"] = [1.49, 1.48, 1.495, 1.485, 1.49]
noisy = os.path.join(tmp, "noisy.json")
with open(noisy, "w") as f:
    json.dump(doc, f)
paths = [reports["base"], noisy]
root, raw = render("noisy", ["compare"] + paths)
if root is not None:
    cmp = check_verdicts("noisy", root, paths)
    check([m["verdict"] for m in cmp["candidates"][0]["metrics"]].count("noisy") == 1,
          "noisy: fixture does not give one noisy verdict")
    check(count_class(root, "noisy") >= 2, "noisy: verdict not shown in grid and table")

# Latency reports (recorded: `burette run --test latency --backend consomme,passt,tap
# --iterations 3 --duration 5`, interleaved, under TCG on a busy 2-core machine): rates read
# "higher is better", times in us "lower is better", in each metric's section and chart.
paths = [os.path.join(data, "latency_consomme.json"), os.path.join(data, "latency_passt.json")]
root, raw = render("latency", ["compare"] + paths)
if root is not None:
    check_charts("latency", root, paths)
    check_verdicts("latency", root, paths)
    secs = sections(root)
    names = report_stats(paths)[0]
    check(len(names) == 13, f"latency: {len(names)} metrics, not 13")
    # The percentiles of each sub-test share one chart, in the section of its p50: a row per
    # report and percentile, every sample of all of them a mark there; the other percentiles'
    # sections link to it.
    fams = percentile_families(names)
    check(sorted(fams) == ["net_virtio-net_tcp_crr", "net_virtio-net_tcp_rr",
                           "net_virtio-net_udp_rr"], f"latency: percentile families {sorted(fams)}")
    for stem, members in fams.items():
        sec = secs.get(stem + "_p50_us")
        svg = [e for e in sec.iter() if local(e.tag) == "svg"] if sec is not None else []
        if not check(len(svg) == 1 and has_class(svg[0], "percentiles"),
                     f"latency: {stem}: no percentile chart in the p50 section"):
            continue
        labels = [text(t) for t in svg[0].iter() if has_class(t, "pct")]
        want = [p for p in ("p50", "p90", "p99", "p99.9")
                if stem + "_" + p.replace(".", "") + "_us" in members] * len(paths)
        check(labels == want, f"latency: {stem}: percentile rows {labels}, expected {want}")
        in_chart = count_class(svg[0], "sample")
        expect_samples = 0
        for p in paths:
            with open(p) as f:
                expect_samples += sum(len(r.get("samples", [])) for r in json.load(f)["results"]
                                      if r["name"] in members)
        check(in_chart == expect_samples,
              f"latency: {stem}: {in_chart} sample marks, expected {expect_samples}")
        check("lower is better" in "".join(svg[0].itertext()),
              f"latency: {stem}: the chart does not say lower is better")
        for other in members:
            if other.endswith("_p50_us"):
                continue
            osec = secs.get(other)
            links = [a for a in osec.iter() if local(a.tag) == "a"] if osec is not None else []
            check(any(text(a) == stem + "_p50_us" for a in links),
                  f"latency: {other}: no link to the shared chart")
    for n in names:
        want = "higher is better" if n.endswith("_per_s") else "lower is better"
        sec = secs.get(n)
        check(sec is not None and want in "".join(sec.itertext()),
              f"latency: {n} does not say {want!r}")

# Markup in every string a report carries comes out as text.
for kind, args in (("inj-report", ["report", reports["injection"]]),
                   ("inj-compare", ["compare", reports["injection"], reports["injection"]])):
    root, raw = render(kind, args)
    if root is None:
        continue
    lower = raw.lower()
    for tag in ("<script", "<img", "<i>key", "<u>gbps", "<b>later"):
        check(tag not in lower, f"{kind}: raw {tag} in the page")
    check(lower.count("<style") == 1, f"{kind}: a second <style> element")
    alltext = "".join(root.itertext())
    # Revisions are shown short, whole in a title attribute: look there too.
    alltext += "".join(v for e in root.iter() for v in e.attrib.values())
    for s in ("<script>alert('metric')</script>", "<script>alert('config')</script>",
              "<script>alert('rev')</script>", "\"><img src=x onerror=alert(1)>", "a & b",
              "<i>key</i>", "</td></tr></table><script>alert(2)</script>"):
        check(s in alltext, f"{kind}: {s!r} not shown as text")
    # A control character cannot go into XML; it is replaced, the rest kept.
    check("bell\ufffd and" in alltext, f"{kind}: control character not replaced")
    check_charts(kind, root, [reports["injection"]] * (2 if kind == "inj-compare" else 1))

# A label from a file name with markup and a byte that is not UTF-8.
weird = os.path.join(tmp.encode(), b"a<b>&\"\xff.json")
shutil.copy(reports["base"], weird)
out = os.path.join(tmp, "weird.html")
p = subprocess.run([burette.encode(), b"report", b"-f", b"html", b"-o", out.encode(), weird],
                   capture_output=True)
check(p.returncode == 0, f"weird file name: exit {p.returncode}: {p.stderr!r}")
try:
    root = ET.parse(out).getroot()
    check("a<b>&\"\ufffd" in "".join(root.itertext()), "weird file name: label not shown as text")
except (ET.ParseError, OSError) as e:
    check(False, f"weird file name: {e}")

# Awkward numbers: one sample (no interval), all samples equal, zeros, magnitudes at both ends
# of a double, negatives. Every one still gets a chart with readable ticks.
def result(name, unit, samples):
    # burette re-summarises reports from their samples; the file's summary need not be exact.
    return {"name": name, "unit": unit, "iterations": len(samples), "mean": samples[0],
            "std_dev": 1, "min": min(samples), "max": max(samples), "samples": samples}


edge = os.path.join(tmp, "edge.json")
with open(edge, "w") as f:
    json.dump({"git_revision": "e", "git_branch": "b", "git_commit_date": "", "date": "",
               "results": [result("one_sample_gbps", "Gbps", [1.5]),
                           result("flat_gbps", "Gbps", [2.0, 2.0, 2.0]),
                           result("zero_pps", "pps", [0.0, 0.0]),
                           result("huge_pps", "pps", [1e300, -1e300]),
                           result("tiny_ms", "ms", [1e-9, 2e-9, 3e-9]),
                           result("negative_ms", "ms", [-5.0, -3.0, -4.0, -6.0, -2.0])]}, f)
root, raw = render("edge", ["report", edge])
if root is not None:
    check_charts("edge", root, [edge])
    for e in root.iter():
        if has_class(e, "tick"):
            check(len(text(e)) <= 10, f"edge: tick label {text(e)!r} too long to read")
        if local(e.tag) == "td" and has_class(e, "num"):
            check(len(text(e)) <= 40, f"edge: table cell {text(e)[:50]!r}... too long to read")

# Ten reports, more than there are colours, one with a long non-ASCII label: each keeps a row
# in every chart, and the label is cut with an ellipsis there but whole in its tooltip.
many = []
for i in range(10):
    name = "n\u00e4me-with-many-characters-%d.json" % i if i == 3 else "r%d.json" % i
    many.append(os.path.join(tmp, name))
    shutil.copy(reports["base"], many[-1])
root, raw = render("many", ["compare"] + many)
if root is not None:
    check_charts("many", root, many)
    long_label = "n\u00e4me-with-many-characters-3"
    svg_texts = [t for s in charts(root) for t in s.iter() if local(t.tag) == "text"]
    svg_text = [text(t) for t in svg_texts]
    cut = [t.text for t in svg_texts
           if any(local(c.tag) == "title" and text(c) == long_label for c in t)]
    check(len(cut) == len(charts(root)) and
          all(c.endswith("\u2026") and long_label.startswith(c[:-1]) and len(c) > 10
              for c in cut), "many: long label not cut with an ellipsis in the chart")
    check(sum(1 for t in svg_text if t.startswith("r9")) == len(charts(root)),
          "many: the tenth report is missing from a chart")

# Four reports: the reports table (origin, provenance, config, host) must fit the page. Its
# columns share the box's width (fixed layout, width 100%) and every cell may wrap, so a long
# value (a digest, a kernel version) wraps in its cell instead of pushing the table wider.
four = []
for i in range(4):
    with open(reports["base"]) as f:
        doc = json.load(f)
    doc["host"]["guest_image_sha256"] = ("%x" % i) * 64
    doc["host"]["guest_kernel"] = "6.1.0-%d-cloud-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1" % i
    doc["config"]["tcp_rx_buffer"] = {"initial": 16384, "max": 4194304 * (i + 1)}
    four.append(os.path.join(tmp, "four%d.json" % i))
    with open(four[-1], "w") as f:
        json.dump(doc, f)
root, raw = render("four", ["compare"] + four)
if root is not None:
    css = "".join(text(e) for e in root.iter() if local(e.tag) == "style").replace(" ", "")
    check("table.reports{table-layout:fixed;width:100%}" in css,
          "four: the reports table is not laid out to the box's width")
    check("overflow-wrap:anywhere" in css.split("table.reports{")[1],
          "four: cells of the reports table cannot wrap")
    tables = [e for e in root.iter() if local(e.tag) == "table" and has_class(e, "reports")]
    if check(len(tables) == 1, f"four: {len(tables)} reports tables"):
        t = tables[0]
        check(not any(has_class(e, "nowrap") for e in t.iter()),
              "four: a reports table cell refuses to wrap")
        cols = [e for e in t.iter() if local(e.tag) == "col"]
        check(len(cols) == 5, f"four: {len(cols)} columns declared, expected 5")
        keys = [text(e) for e in t.iter() if local(e.tag) == "td" and has_class(e, "key")]
        check("qemu_version" in keys and "guest_image_sha256" in keys,
              "four: no provenance rows")
        rows = {text(r[0]): [text(c) for c in r[1:]] for r in t.iter() if local(r.tag) == "tr"
                and len(r) == 5 and has_class(r[0], "key")}
        check(rows.get("qemu_version") == ["unknown"] * 4,
              f"four: qemu_version not unknown in old reports: {rows.get('qemu_version')}")
        check(keys.count("guest_image_sha256") == 1, "four: a provenance key shown twice")
    page = "".join(root.itertext())
    check("guest_image_sha256 " + "0" * 64 + " vs " + "1" * 64 in page,
          "four: a different guest image is not named as a provenance difference")

# Stalled runs: the verdict cell and the grid carry the warning; the warnings list names it.
stalled = []
for i, counts in enumerate(([0, 0, 0, 0, 0], [0, 3, 0, 1, 0])):
    doc = {"git_revision": "s", "git_branch": "b", "git_commit_date": "", "date": "",
           "results": [result("net_virtio-net_tcp_rx_gbps", "Gbps", [1.0, 1.1, 0.9, 1.0, 1.05]),
                       result("net_virtio-net_tcp_rx_stalled_intervals", "intervals", counts)]}
    stalled.append(os.path.join(tmp, "stall%d.json" % i))
    with open(stalled[-1], "w") as f:
        json.dump(doc, f)
root, raw = render("stalled", ["compare"] + stalled)
if root is not None:
    notes = [text(e) for e in root.iter() if has_class(e, "stall")]
    check(any("stalled: 2 of 5 candidate runs had 1-s intervals below 10% of the median" in n
              for n in notes), f"stalled: no stall note beside the verdict: {notes}")
    check(any(n == "stalled" for n in notes), "stalled: no stall mark in the grid")
    items = [text(e) for e in root.iter() if local(e.tag) == "li"]
    check(any(i.startswith("net_virtio-net_tcp_rx_gbps (stall1): stalled") for i in items),
          f"stalled: not in the warnings list: {items}")
root, raw = render("stalled-report", ["report", stalled[1]])
if root is not None:
    items = [text(e) for e in root.iter() if local(e.tag) == "li"]
    check(any("stalled iterations: 2 (3 intervals), 4 (1 interval)" in i for i in items),
          f"stalled-report: stalled iterations not named: {items}")

# The format is offered where formats are listed.
for cmd in ("report", "compare"):
    p = run([cmd, "--help"])
    check(b"html" in p.stdout, f"{cmd} --help does not list html")

shutil.rmtree(tmp)
for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
