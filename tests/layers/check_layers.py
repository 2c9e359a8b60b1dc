#!/usr/bin/env python3
"""The layering of docs/ARCHITECTURE-layout.md, checked on the code: every quoted #include of a
source outside tests/ must name a header of a folder its own folder may use.

A header is found by its path relative to the including file, else by its file name anywhere in
the tree (header names are unique outside tests/; a second one is reported, since it would make
this check guess). Usage: check_layers.py SOURCE_DIR. Exit 0 when every include is allowed, 1
with one line per include that is not (file:line, what it includes, and from which layer).
"""
import os
import re
import sys

# Folder (the longest prefix wins) -> the folders its files may include, beyond their own
# (and what lies under each).
# The order of the layers: cli -> run -> measure -> vm -> progress inside harness/; below the
# harness the backends (registry and launchers), the helper, results, guest's protocol, common.
BELOW_HARNESS = ["backends", "helper", "results", "guest", "common"]
ALLOWED = {
    "harness/cli": ["harness/run", "harness/measure", "harness/vm", "harness/progress"]
    + BELOW_HARNESS,
    "harness/run": ["harness/measure", "harness/vm", "harness/progress"] + BELOW_HARNESS,
    "harness/measure": ["harness/vm", "harness/progress"] + BELOW_HARNESS,
    "harness/vm": ["harness/progress", "guest", "common"],
    "harness/progress": ["common"],
    "backends": ["helper", "guest", "common"],
    "backends/consomme": ["common"],
    "backends/consomme/launcher": ["backends", "helper", "guest", "common"],
    "helper": ["common"],
    "results": ["common"],
    "guest": ["common"],
    "common": [],
    "docs": ["backends", "common"],
}
SKIP = ("tests/", "build", ".git/", "bench/", "examples/")  # not layers of the program
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """The longest ALLOWED key that is a folder prefix of path, or None."""
    best = None
    for key in ALLOWED:
        if path.startswith(key + "/") and (best is None or len(key) > len(best)):
            best = key
    return best


def main(root):
    sources, by_name, errors = [], {}, []
    for d, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(d, root)
        dirs[:] = [x for x in dirs
                   if not os.path.normpath(os.path.join(rel_dir, x) + "/").startswith(SKIP)
                   and not x.startswith(("build", "."))]
        for f in files:
            rel = os.path.normpath(os.path.join(rel_dir, f))
            if rel.startswith(SKIP) or not f.endswith((".c", ".h")):
                continue
            sources.append(rel)
            if f.endswith(".h"):
                if f in by_name:
                    errors.append(f"{rel}: a second header named {f} (also {by_name[f]})")
                by_name[f] = rel
    for src in sorted(sources):
        layer = layer_of(src)
        if layer is None:
            errors.append(f"{src}: in no layer of this check (add its folder to ALLOWED)")
            continue
        # the fuzz targets reach into the stack they fuzz, as the tests do
        if "/fuzz/" in src:
            continue
        with open(os.path.join(root, src), encoding="utf-8", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                near = os.path.normpath(os.path.join(os.path.dirname(src), inc))
                target = near if near in sources else by_name.get(os.path.basename(inc))
                if target is None:
                    continue  # generated (build_info.h) or a system header in quotes
                to = layer_of(target)
                # a folder named may be used with what lies under it: "backends" takes
                # backends/consomme/mtu.h too
                if any(to == ok or to.startswith(ok + "/") for ok in [layer] + ALLOWED[layer]):
                    continue
                errors.append(f"{src}:{n}: includes {inc} ({to}), which {layer}/ may not use")
    for e in errors:
        print(e)
    print(f"{len(sources)} sources checked, {len(errors)} include(s) against the layers")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
