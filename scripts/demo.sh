#!/usr/bin/env bash
# The "main job", end to end: deploys the example AI platform estate
# (examples/ai-platform: AWS resources in the moto emulator, then the PostgreSQL
# schema) into a fresh `strata_demo` database and an emptied moto, and shows that
# strata converges:
#   1. strata validate / plan          (what would be created)
#   2. strata apply -auto-approve      (create it)
#   3. scripts/validate_schema.py      (the tables and indexes really exist), and the
#      nightly backup and weekly restore drill the apply ran (manifest, drill report)
#   4. strata plan -detailed-exitcode  (must report no changes: exit code 0)
#   5. the generated db_password appears nowhere in strata's output
# and lists what moto then holds. Needs PostgreSQL (found or started by
# scripts/services.sh), psql, and python3 (moto is installed into .venv/moto).
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

step "moto (the AWS emulator)"
ensure_moto
# A fresh emulator, as the database below is fresh (matters when STRATA_MOTO_URL
# names a server that is kept running).
moto_reset || fail "could not reset the moto server at ${STRATA_MOTO_URL}"

step "building strata (debug: cargo build --bin strata)"
cargo build --bin strata
strata="${CARGO_TARGET_DIR}/debug/strata"
[ -x "$strata" ] || fail "the build did not produce ${strata}"

step "recreating database ${database}"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$database" <<'SQL' || fail "could not recreate database ${database}"
SET client_min_messages = warning;
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'db') \gexec
-- The roles an earlier demo run made (access.tf, named with this demo's role_prefix): roles
-- belong to the server, so dropping the database leaves them.
SELECT format('DROP ROLE %I', rolname) FROM pg_roles WHERE starts_with(rolname, :'db' || '_') \gexec
SELECT format('CREATE DATABASE %I', :'db') \gexec
SQL

# Work on a copy of the example so that state files and locks never land in
# the repository. The copy is removed on success and kept on failure.
workdir="$(mktemp -d "${TMPDIR:-/tmp}/strata-demo.XXXXXX")"
cleanup() {
    local status=$?
    stop_moto   # this trap replaces the one ensure_moto added
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
# The example's roles (access.tf) are named after the demo database, so they are the demo's own.
export STRATA_VAR_role_prefix="${database}_"
# The AWS resources go into moto's default VPC, with a password made for this run
# (checked below never to be printed).
vpc_id="$(moto_default_vpc)" || fail "could not read moto's default VPC at ${STRATA_MOTO_URL}"
db_password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"
export STRATA_VAR_vpc_id="$vpc_id" STRATA_VAR_db_password="$db_password"

# Everything strata prints also goes to this log, to look for the password in.
output="$workdir/strata-output.log"
# run_strata ARGS...: runs strata with its output (stdout and stderr) shown and logged.
run_strata() {
    "$strata" "$@" 2>&1 | tee -a "$output"
}

step "strata validate"
run_strata validate || fail "strata validate rejected examples/ai-platform"

step "strata plan"
run_strata plan || fail "strata plan failed"

step "strata apply -auto-approve"
run_strata apply -auto-approve || fail "strata apply failed"

step "validating the deployed schema (scripts/validate_schema.py)"
python3 "${root}/scripts/validate_schema.py" --database "$database" \
    || fail "the database does not hold the expected tables and indexes after apply"

step "checking the nightly backup and the weekly restore drill the apply ran"
manifests=("$workdir"/backups/strata-*.manifest.json)
[ -f "${manifests[0]}" ] || fail "the apply took no backup: no manifest in $workdir/backups"
reports=("$workdir"/drill-reports/drill-*.json)
[ -f "${reports[0]}" ] || fail "the apply ran no restore drill: no report in $workdir/drill-reports"
python3 - "${manifests[0]}" "${reports[0]}" <<'PY' || fail "the backup or the drill is not what it should be (see above)"
import json, sys
manifest, report = (json.load(open(path)) for path in sys.argv[1:3])
print(f"  backup {manifest['backup_id']}: {manifest['bytes']} bytes, {len(manifest['row_counts'])} tables counted, sha256 {manifest['sha256'][:12]}...")
print(f"  drill: {'passed' if report['passed'] else 'FAILED'}, restore {report['restore_seconds']:.2f}s, {report['tables_checked']} tables checked")
for check in report["checks"]:
    print(f"    {'ok ' if check['passed'] else 'BAD'} {check['check']}")
sys.exit(0 if report["passed"] else 1)
PY

step "strata plan -detailed-exitcode (must find nothing to change)"
set +e
run_strata plan -detailed-exitcode
code=${PIPESTATUS[0]}
set -e
case "$code" in
    0) ;;
    2) fail "second plan: changes pending right after apply (exit code 2)" \
            "strata does not converge: the plan above lists what it still wants to change." ;;
    *) fail "second plan: strata plan -detailed-exitcode exited with ${code}" ;;
esac

step "least privilege: connecting as the example's roles"
# Each role reads what access.tf grants it and nothing else (psql exits 1 on permission denied).
as_role() { psql -X -q -t -A -v ON_ERROR_STOP=1 -U "${database}_$1" -d "$database" -c "$2" >/dev/null 2>&1; }
as_role auditor "SELECT count(*) FROM audit_logs" || fail "the auditor role cannot read audit_logs"
! as_role auditor "SELECT count(*) FROM users" || fail "the auditor role can read users"
as_role feature_serving "SELECT count(*) FROM feature_serving" || fail "feature_serving cannot read its view"
! as_role feature_serving "SELECT count(*) FROM models" || fail "feature_serving can read models"
as_role analyst "SELECT count(*) FROM models" || fail "the analyst cannot read models through ml_readers"
! as_role analyst "SELECT email FROM users" || fail "the analyst can read users' emails"
printf '  auditor reads audit_logs only; feature_serving its view only; analyst the model catalog, never users\n' >&2

step "checking that the generated db_password appears nowhere in strata's output"
if grep -q -F -- "$db_password" "$output"; then
    fail "the database password (STRATA_VAR_db_password) was printed by strata" \
         "on these lines of ${output}: $(grep -n -F -- "$db_password" "$output" | cut -d: -f1 | paste -sd, -)" \
         "sensitive values must be masked wherever strata prints them (the log is kept with the working copy)."
fi

step "what moto now holds (${STRATA_MOTO_URL})"
moto_python - <<'PY' || fail "could not list what moto holds"
import os
import boto3

endpoint = os.environ["STRATA_MOTO_URL"]
rds = boto3.client("rds", endpoint_url=endpoint)
ec2 = boto3.client("ec2", endpoint_url=endpoint)
instances = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
groups = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
parameter_groups = [p["DBParameterGroupName"] for p in rds.describe_db_parameter_groups()["DBParameterGroups"]]
for title, names in [("DB instances", instances), ("security groups", groups), ("DB parameter groups", parameter_groups)]:
    print(f"  {title + ':':22} {', '.join(sorted(names)) or '(none)'}")
PY

printf '\ndemo: second plan: no changes, and the password was never printed. The estate converged.\n' >&2
