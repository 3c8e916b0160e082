#!/usr/bin/env bash
# The one test command: finds or starts PostgreSQL, then runs every test in the
# workspace. Extra arguments go to `cargo test` (e.g. `scripts/test.sh -- --nocapture`).
# The exit code is cargo's.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/services.sh
source scripts/services.sh

ensure_postgres

if ! command -v cargo >/dev/null 2>&1; then
    echo "test: cargo is not installed (or not on PATH); install Rust from https://rustup.rs" >&2
    exit 1
fi

echo "test: cargo test --workspace $* (PGHOST=${PGHOST} PGPORT=${PGPORT} PGUSER=${PGUSER}, CARGO_TARGET_DIR=${CARGO_TARGET_DIR})" >&2
exec cargo test --workspace "$@"
