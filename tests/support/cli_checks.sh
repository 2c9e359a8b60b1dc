# Shared by the shell CLI tests (sourced, not run): a private temporary directory, and checks
# that record a failure and go on, so every check of a script runs and all failures are listed.
# The sourcing script ends with: [ "$failures" -eq 0 ] || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect STATUS CMD... : runs CMD, stdout in $tmp/out, stderr in $tmp/err, checks the status.
expect() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, expected $want; stderr: $(cat "$tmp/err")"
        return 1
    fi
    return 0
}

# stderr_has TEXT : the last command's stderr contains TEXT.
stderr_has() {
    grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1': $(cat "$tmp/err")"
}

# stderr_is TEXT : the last command's stderr is TEXT, one line and nothing else.
stderr_is() {
    [ "$(cat "$tmp/err")" = "$1" ] || fail "stderr is not '$1': $(cat "$tmp/err")"
}

# stdout_has TEXT : the last command's stdout contains TEXT.
stdout_has() {
    grep -qF -- "$1" "$tmp/out" || fail "stdout lacks '$1'"
}
