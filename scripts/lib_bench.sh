# shellcheck shell=bash
# What the benchmarks (scripts/bench.sh, scripts/bench_aws.sh) share: the release
# build of strata, a scratch directory, and a timer for one run of strata.
# Source it after scripts/services.sh (it uses CARGO_TARGET_DIR and add_exit_trap).

# Installs the measuring tools, builds strata in release mode, and sets
# $strata (the binary) and $work (a scratch directory removed at exit).
bench_setup() {
    command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
    command -v bc >/dev/null || apt-get install -y bc >/dev/null
    cargo build --release --bin strata >&2
    strata="${CARGO_TARGET_DIR}/release/strata"
    work="$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")"
    # shellcheck disable=SC2016 # $work is expanded when the trap runs
    add_exit_trap 'rm -rf "$work"'
}

# bench_run ARGS...: runs strata ARGS in the current directory and sets
# bench_seconds (wall time) and bench_rss (peak RSS, KiB). strata's output is
# left in $work/out and $work/err; if it fails, its stderr is shown and the
# benchmark stops.
bench_run() {
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -o "$work/rss" -f '%M' "$strata" "$@" >"$work/out" 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
    end=$(date +%s.%N)
    bench_rss=$(cat "$work/rss")
    bench_seconds=$(echo "$end - $start" | bc)
}

# measure LABEL ARGS...: runs strata ARGS in the current directory, prints wall seconds and peak RSS.
measure() {
    local label="$1"
    shift
    bench_run "$@"
    printf '%-44s %8.2f s %8d KiB peak RSS\n' "$label" "$bench_seconds" "$bench_rss"
}
