#!/usr/bin/env bash
# Benchmark (not a test): wall time and peak memory of strata against the local PostgreSQL for
#   1. the ai-platform example (its AWS resources go to the moto emulator): first apply, then a
#      no-op plan;
#   2. a generated estate of N tables (default 200) with foreign keys, checks and indexes.
# Prints figures; asserts nothing but that each command succeeds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/services.sh
source scripts/services.sh
# shellcheck source=scripts/lib_bench.sh
source scripts/lib_bench.sh
ensure_postgres
tables="${1:-200}"

bench_setup
ensure_moto
moto_reset   # a clean emulator, as the databases below are fresh

fresh_database() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

echo "== examples/ai-platform ($(cat examples/ai-platform/*.tf | grep -c '^resource ') resources)"
dir="$work/example"
mkdir -p "$dir" && cp examples/ai-platform/*.tf "$dir/"
fresh_database strata_bench_example
export STRATA_VAR_pg_database=strata_bench_example STRATA_VAR_pg_host="$PGHOST" STRATA_VAR_pg_port="$PGPORT" STRATA_VAR_pg_username="$PGUSER"
STRATA_VAR_vpc_id="$(moto_default_vpc)"
STRATA_VAR_db_password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
export STRATA_VAR_vpc_id STRATA_VAR_db_password
(cd "$dir" && measure "apply (create everything)" apply -auto-approve)
(cd "$dir" && measure "plan (no changes)" plan -detailed-exitcode)

echo "== generated: ${tables} tables, each with a foreign key, a check and an index"
dir="$work/generated"
mkdir -p "$dir"
{
    echo "provider \"postgres\" {"
    echo "  database = \"strata_bench_generated\""
    echo "}"
    for i in $(seq 1 "$tables"); do
        parent=$(( i > 1 ? i - 1 : 0 ))
        cat <<TF
resource "postgres_table" "t${i}" {
  name = "t${i}"
  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "parent_id"
    type = "bigint"
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }
  column {
    name = "score"
    type = "numeric(6,2)"
  }
  primary_key = ["id"]
  check {
    expression = "score >= 0"
  }
  index {
    name    = "t${i}_created_at"
    columns = ["created_at DESC"]
  }
TF
        if [ "$parent" -gt 0 ]; then
            cat <<TF
  foreign_key {
    columns     = ["parent_id"]
    references  = postgres_table.t${parent}.id
    ref_columns = ["id"]
  }
TF
        fi
        echo "}"
    done
} > "$dir/main.tf"
fresh_database strata_bench_generated
(cd "$dir" && measure "validate" validate)
(cd "$dir" && measure "apply (create ${tables} tables)" apply -auto-approve)
(cd "$dir" && measure "plan (no changes)" plan -detailed-exitcode -verbose)
# -verbose put the calls per provider on stderr: the no-op plan's catalog queries.
printf '%-44s %s\n' "  plan (no changes): catalog queries" "$(grep '^postgres:' "$work/err" | sed 's/.*pg_catalog queries \([0-9]*\)).*/\1/')"
(cd "$dir" && measure "state list" state list)
(cd "$dir" && measure "destroy" destroy -auto-approve)
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS strata_bench_example WITH (FORCE)" -c "DROP DATABASE IF EXISTS strata_bench_generated WITH (FORCE)" >/dev/null
