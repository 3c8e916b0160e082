#!/usr/bin/env bash
# The one test command: finds or starts PostgreSQL and the moto AWS emulator, then runs
# every test in the workspace against them (the AWS tests read STRATA_MOTO_URL and the
# AWS_* variables ensure_moto exports). Extra arguments go to `cargo test`
# (e.g. `scripts/test.sh -- --nocapture`). The exit code is cargo's; moto is stopped
# at exit, whatever the outcome.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/services.sh
source scripts/services.sh

ensure_postgres

if ! command -v cargo >/dev/null 2>&1; then
    echo "test: cargo is not installed (or not on PATH); install Rust from https://rustup.rs" >&2
    exit 1
fi

log="$(mktemp)"
# Set before ensure_moto, which adds stop_moto to it.
trap 'rm -f "$log"' EXIT
ensure_moto

echo "test: cargo test --workspace $* (PGHOST=${PGHOST} PGPORT=${PGPORT} PGUSER=${PGUSER}, STRATA_MOTO_URL=${STRATA_MOTO_URL}, CARGO_TARGET_DIR=${CARGO_TARGET_DIR})" >&2
set +e
cargo test --workspace "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
