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
# bench_seconds (wall time), bench_cpu (strata's own CPU seconds, user + system) and bench_rss
# (peak RSS, KiB). strata's output is
# left in $work/out and $work/err; if it fails, its stderr is shown and the
# benchmark stops.
bench_run() {
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -o "$work/rss" -f '%M %U %S' "$strata" "$@" >"$work/out" 2>"$work/err" \
        || { cat "$work/err" >&2; exit 1; }
    end=$(date +%s.%N)
    read -r bench_rss user system < "$work/rss"
    bench_cpu=$(echo "$user + $system" | bc)
    bench_seconds=$(echo "$end - $start" | bc)
}

# measure LABEL ARGS...: runs strata ARGS in the current directory, prints wall seconds and peak RSS.
measure() {
    local label="$1"
    shift
    bench_run "$@"
    printf '%-44s %8.2f s %8d KiB peak RSS\n' "$label" "$bench_seconds" "$bench_rss"
}

# The comparison tool, pinned, in the project's own virtualenv (.venv/migra, re-used while it
# holds exactly these versions). Sets $migra.
_migra_venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/migra"
_migra_pins=(migra==3.0.1663481299 schemainspect==3.1.1663587362 sqlbag==0.1.1617247075 SQLAlchemy==2.1.9 psycopg2-binary==2.9.13)
ensure_migra() {
    migra="${_migra_venv}/bin/migra"
    local wanted
    wanted="$(printf '%s\n' "${_migra_pins[@]}" | tr '[:upper:]' '[:lower:]' | sort)"
    if [ -x "$migra" ] && [ "$("${_migra_venv}/bin/pip" freeze 2>/dev/null | tr '[:upper:]' '[:lower:]' | grep -E '^(migra|schemainspect|sqlbag|sqlalchemy|psycopg2-binary)==' | sort)" = "$wanted" ]; then
        return 0
    fi
    echo "installing ${_migra_pins[*]} into ${_migra_venv}" >&2
    python3 -m venv --clear "$_migra_venv" >&2
    "${_migra_venv}/bin/pip" install -q "${_migra_pins[@]}" >&2
}

# migra_noop DB: times migra's diff of DB against an identical copy of it; prints the line and
# sets migra_seconds.
migra_noop() {
    local copy="${1}_copy" start end
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${copy} WITH (FORCE)" -c "CREATE DATABASE ${copy} TEMPLATE $1" >/dev/null
    start=$(date +%s.%N)
    # migra exits 0 when the schemas match, 2 when they differ: anything but 0 is a failure here.
    /usr/bin/time -o "$work/rss" -f '%M' "$migra" --unsafe "postgresql+psycopg2://${PGUSER}@${PGHOST}:${PGPORT}/$1" \
        "postgresql+psycopg2://${PGUSER}@${PGHOST}:${PGPORT}/${copy}" >"$work/out" 2>"$work/err" || { cat "$work/out" "$work/err" >&2; exit 1; }
    end=$(date +%s.%N)
    migra_seconds=$(echo "$end - $start" | bc)
    printf '%-44s %8.2f s %8d KiB peak RSS\n' "migra no-op diff (same catalog)" "$migra_seconds" "$(cat "$work/rss")"
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS ${copy} WITH (FORCE)" >/dev/null
}
