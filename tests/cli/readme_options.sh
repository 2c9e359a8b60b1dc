#!/bin/sh
# The README's table of backend options is the one the registry prints now (docs/
# backend_options_md.c): an option added, renamed or given another default in backends/ must
# reach the documentation, and a hand edit of the table must go back into the registry.
#
# Usage: readme_options.sh GENERATOR README
set -u
generator=$1
readme=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if ! grep -q '^<!-- backend-options:begin' "$readme" || ! grep -q '^<!-- backend-options:end' "$readme"; then
    echo "FAIL: $readme has no backend-options:begin/end markers around its option table"
    exit 1
fi
"$generator" >"$tmp/registry" || exit 1
sed -n '/^<!-- backend-options:begin/,/^<!-- backend-options:end/p' "$readme" | sed '1d;$d' >"$tmp/readme"
if ! cmp -s "$tmp/readme" "$tmp/registry"; then
    echo "FAIL: the option table in $readme is not the registry's (- README, + registry):"
    diff -u "$tmp/readme" "$tmp/registry" | head -n 40
    echo "Run scripts/update-readme BUILD_DIR to write the registry's table in."
    exit 1
fi
echo "README's backend option table matches the registry ($(wc -l <"$tmp/registry") lines)"
