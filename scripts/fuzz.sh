#!/usr/bin/env bash
# Bounded fuzzing, benchmark-style: runs each fuzz target of src/fuzz.rs (config_loader: .tf text
# through the loader; config_context: on through schemas, variables, graph and evaluation, as
# validate does; state_reader: stored bytes through the encryption envelope and the state reader)
# for FUZZ_SECONDS each (default 60) and
# prints one line of figures per target: executions, executions per second, findings. A finding
# is an input that panicked, shrunk and saved under FUZZ_FINDINGS_DIR. Needs no services.
# The exit code is 0 when no target found anything.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The same build directory as the other scripts, outside the clone (see scripts/services.sh).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HOME}/.cache/strata-target}"
export FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
export FUZZ_FINDINGS_DIR="${FUZZ_FINDINGS_DIR:-${TMPDIR:-/tmp}/strata-fuzz-findings}"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for target in config_loader config_context state_reader; do
    if ! cargo test --quiet --workspace --bin strata -- --ignored --exact "fuzz::fuzz_budget_${target}" --nocapture >"$log" 2>&1; then
        status=1
    fi
    if ! grep '^fuzz:' "$log"; then
        echo "fuzz: target=${target} did not run; cargo said:" >&2
        tail -n 30 "$log" >&2
    fi
done
exit "$status"
