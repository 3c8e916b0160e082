#!/usr/bin/env bash
# Benchmark (not a test): wall time and peak memory of strata against the local PostgreSQL for
#   1. the ai-platform example (its AWS resources go to the moto emulator): first apply, then a
#      no-op plan;
#   2. a generated estate of N tables (default 200) with foreign keys, checks and indexes: validate,
#      apply, no-op plan (with its catalog queries), state list, destroy, and migra's no-op diff of
#      the same catalog, with strata's ratio to it;
#   3. N tables and N indexes made by for_each in 10 instances of a module: validate, apply,
#      no-op plan, destroy;
#   3b. the generated estate with a reader role and one postgres_grant per table: apply, no-op
#      plan (with its catalog queries), destroy;
#   4. the generated estate at 10 x N tables: validate, apply and no-op plan (--large-validate-only: validate
#      only; --no-large: skip it).
# Usage: scripts/bench.sh [N] [--no-large | --large-validate-only]
# Prints figures; asserts nothing but that each command succeeds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/services.sh
source scripts/services.sh
# shellcheck source=scripts/lib_bench.sh
source scripts/lib_bench.sh
ensure_postgres
tables=200
large=full
for arg in "$@"; do
    case "$arg" in
        --no-large) large=none ;;
        --large-validate-only) large=validate ;;
        [0-9]*) tables="$arg" ;;
        *) echo "usage: scripts/bench.sh [N] [--no-large | --large-validate-only]" >&2; exit 2 ;;
    esac
done

bench_setup
ensure_migra
ensure_moto
moto_reset   # a clean emulator, as the databases below are fresh

fresh_database() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

echo "== examples/ai-platform ($(cat examples/ai-platform/*.tf | grep -c '^resource ') resources)"
dir="$work/example"
mkdir -p "$dir" && cp examples/ai-platform/*.tf "$dir/"
fresh_database strata_bench_example
# The example's roles are the server's, named after the bench database, so dropping the database
# leaves them: dropped with it here and at the end.
drop_example_roles() {
    psql -X -q -d postgres -t -A -c "SELECT format('DROP ROLE %I;', rolname) FROM pg_roles WHERE starts_with(rolname, 'strata_bench_example_')" | psql -X -q -d postgres >/dev/null
}
drop_example_roles
export STRATA_VAR_role_prefix=strata_bench_example_
export STRATA_VAR_pg_database=strata_bench_example STRATA_VAR_pg_host="$PGHOST" STRATA_VAR_pg_port="$PGPORT" STRATA_VAR_pg_username="$PGUSER"
STRATA_VAR_vpc_id="$(moto_default_vpc)"
STRATA_VAR_db_password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
export STRATA_VAR_vpc_id STRATA_VAR_db_password
(cd "$dir" && measure "apply (create everything)" apply -auto-approve)
(cd "$dir" && measure "plan (no changes)" plan -detailed-exitcode)

# generated_estate N DIR: writes DIR/main.tf, N tables in the database strata_bench_generated.
generated_estate() {
    local count="$1" dir="$2" i parent
    mkdir -p "$dir"
    {
        echo "provider \"postgres\" {"
        echo "  database = \"strata_bench_generated\""
        echo "}"
        for i in $(seq 1 "$count"); do
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
  column {
    name = "label"
    type = "text"
  }
  column {
    name = "payload"
    type = "jsonb"
  }
  column {
    name    = "active"
    type    = "boolean"
    null    = false
    default = "true"
  }
  primary_key = ["id"]
  check {
    expression = "score >= 0"
  }
  index {
    name    = "t${i}_created_at"
    columns = ["created_at DESC", "label"]
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
}

# noop_plan LABEL: the no-op plan in the current directory, and its catalog queries.
noop_plan() {
    measure "$1" plan -detailed-exitcode -verbose
    plan_seconds="$bench_seconds"
    # -verbose put the calls per provider on stderr.
    printf '%-44s %s\n' "  plan (no changes): catalog queries" "$(grep '^postgres:' "$work/err" | sed 's/.*pg_catalog queries \([0-9]*\)).*/\1/')"
}

echo "== generated: ${tables} tables, 7 columns each, a foreign key to the previous, a check and a 2-column index"
generated_estate "$tables" "$work/generated"
fresh_database strata_bench_generated
(cd "$work/generated" && measure "validate" validate)
(cd "$work/generated" && measure "apply (create ${tables} tables)" apply -auto-approve)
cd "$work/generated"
noop_plan "plan (no changes)"
measure "state list" state list
cd "$root"
migra_noop strata_bench_generated
printf '%-44s %8.2f\n' "strata no-op plan / migra no-op diff" "$(echo "$plan_seconds / $migra_seconds" | bc -l)"
(cd "$work/generated" && measure "destroy" destroy -auto-approve)

# module_estate N DIR: N tables made by count and for_each inside a module called once per team
# (10 teams), each with an index made by for_each over the team's tables.
module_estate() {
    local count="$1" dir="$2"
    mkdir -p "$dir/modules/team"
    cat > "$dir/main.tf" <<TF
provider "postgres" {
  database = "strata_bench_generated"
}

module "team" {
  source   = "./modules/team"
  for_each = toset([for i in range(10) : "team\${i}"])
  name     = each.key
  tables   = $(( count / 10 ))
}
TF
    cat > "$dir/modules/team/main.tf" <<'TF'
variable "name" {
  type = string
}

variable "tables" {
  type = number
}

resource "postgres_schema" "this" {
  name = var.name
}

resource "postgres_table" "t" {
  for_each = toset([for i in range(var.tables) : "t${i}"])
  schema   = postgres_schema.this.name
  name     = each.key
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "created_at"
    type = "timestamptz"
  }
}

resource "postgres_index" "created_at" {
  for_each = postgres_table.t
  table    = each.value.id
  name     = "${each.key}_created_at"
  columns  = ["created_at"]
}
TF
}

echo "== modules: ${tables} tables and ${tables} indexes by for_each, in 10 instances of a module"
module_estate "$tables" "$work/modules"
fresh_database strata_bench_generated
(cd "$work/modules" && measure "validate" validate)
(cd "$work/modules" && measure "apply (create $(( tables * 2 + 10 )) resources)" apply -auto-approve)
(cd "$work/modules" && noop_plan "plan (no changes)")
(cd "$work/modules" && measure "destroy" destroy -auto-approve)

echo "== grants: ${tables} tables as above, a reader role and one postgres_grant per table"
generated_estate "$tables" "$work/grants"
{
    printf 'resource "postgres_role" "reader" {\n  name = "strata_bench_reader"\n}\n'
    for i in $(seq 1 "$tables"); do
        cat <<TF
resource "postgres_grant" "t${i}" {
  database    = "strata_bench_generated"
  role        = postgres_role.reader.name
  schema      = "public"
  object_type = "table"
  objects     = [postgres_table.t${i}.name]
  privileges  = ["SELECT"]
}
TF
    done
} >> "$work/grants/main.tf"
fresh_database strata_bench_generated
psql -X -q -d postgres -c "DROP ROLE IF EXISTS strata_bench_reader" >/dev/null
(cd "$work/grants" && measure "apply (create ${tables} tables, ${tables} grants)" apply -auto-approve)
(cd "$work/grants" && noop_plan "plan (no changes)")
(cd "$work/grants" && measure "destroy" destroy -auto-approve)

if [ "$large" != none ]; then
    many=$(( tables * 10 ))
    echo "== generated: ${many} tables, as above"
    generated_estate "$many" "$work/large"
    fresh_database strata_bench_generated
    (cd "$work/large" && measure "validate" validate)
    if [ "$large" = full ]; then
        (cd "$work/large" && measure "apply (create ${many} tables)" apply -auto-approve)
        (cd "$work/large" && noop_plan "plan (no changes)")
    fi
fi
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS strata_bench_example WITH (FORCE)" -c "DROP DATABASE IF EXISTS strata_bench_generated WITH (FORCE)" >/dev/null
drop_example_roles
