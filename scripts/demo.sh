#!/usr/bin/env bash
# The "main job", end to end: deploys the example AI platform estate
# (examples/ai-platform) into a fresh `strata_demo` database and shows that
# strata converges:
#   1. strata validate / plan          (what would be created)
#   2. strata apply -auto-approve      (create it)
#   3. scripts/validate_schema.py      (the tables and indexes really exist)
#   4. strata plan -detailed-exitcode  (must report no changes: exit code 0)
# Needs PostgreSQL (found or started by scripts/services.sh) and psql.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/services.sh
source scripts/services.sh

database="${STRATA_DEMO_DATABASE:-strata_demo}"
example="${root}/examples/ai-platform"

step() {
    printf '\n==> %s\n' "$*" >&2
}

fail() {
    {
        printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
        printf '!! demo FAILED: %s\n' "$1"
        shift
        local line
        for line in "$@"; do
            printf '!! %s\n' "$line"
        done
        printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n'
    } >&2
    exit 1
}

step "PostgreSQL"
ensure_postgres
command -v psql >/dev/null 2>&1 || fail "psql is not installed" "install it with: apt-get install -y postgresql-client"
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed" "install it with: apt-get install -y python3"

step "building strata (debug: cargo build --bin strata)"
cargo build --bin strata
strata="${CARGO_TARGET_DIR}/debug/strata"
[ -x "$strata" ] || fail "the build did not produce ${strata}"

step "recreating database ${database}"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$database" <<'SQL' || fail "could not recreate database ${database}"
SET client_min_messages = warning;
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'db') \gexec
SELECT format('CREATE DATABASE %I', :'db') \gexec
SQL

# Work on a copy of the example so that state files and locks never land in
# the repository. The copy is removed on success and kept on failure.
workdir="$(mktemp -d "${TMPDIR:-/tmp}/strata-demo.XXXXXX")"
cleanup() {
    local status=$?
    if [ "$status" -eq 0 ]; then
        rm -rf "$workdir"
    else
        printf 'demo: the working copy (configuration and state) is kept in %s\n' "$workdir" >&2
    fi
}
trap cleanup EXIT
cp -R "${example}/." "$workdir/"
rm -f "$workdir"/*.state.json "$workdir"/*.state.json.* "$workdir"/*.tfstate "$workdir"/*.tfstate.*
cd "$workdir"

# Point the example's connection variables at the server found above.
export PGDATABASE="$database"
export STRATA_VAR_pg_host="$PGHOST"
export STRATA_VAR_pg_port="$PGPORT"
export STRATA_VAR_pg_username="$PGUSER"
export STRATA_VAR_pg_database="$database"

step "strata validate"
"$strata" validate || fail "strata validate rejected examples/ai-platform"

step "strata plan"
"$strata" plan || fail "strata plan failed"

step "strata apply -auto-approve"
"$strata" apply -auto-approve || fail "strata apply failed"

step "validating the deployed schema (scripts/validate_schema.py)"
python3 "${root}/scripts/validate_schema.py" --database "$database" \
    || fail "the database does not hold the expected tables and indexes after apply"

step "strata plan -detailed-exitcode (must find nothing to change)"
set +e
"$strata" plan -detailed-exitcode
code=$?
set -e
case "$code" in
    0) printf '\ndemo: second plan: no changes. The estate converged.\n' >&2 ;;
    2) fail "second plan: changes pending right after apply (exit code 2)" \
            "strata does not converge: the plan above lists what it still wants to change." ;;
    *) fail "second plan: strata plan -detailed-exitcode exited with ${code}" ;;
esac
