#!/usr/bin/env bash
# Benchmark (not a test): wall time, peak memory and AWS API calls of strata against the moto
# AWS emulator (started by scripts/services.sh) for
#   1. examples/seed-terraform (a security group, a parameter group and an RDS instance):
#      first apply, then a no-op plan;
#   2. a generated estate of N security groups (one ingress and one allow-all egress rule each)
#      and N DB parameter groups (postgres14, two parameters each), default N=200:
#      first apply, then a no-op plan.
# Prints one line per command: label, seconds (with strata's own CPU seconds, and moto's when this
# script started it: moto serves one call at a time, so its CPU time is the floor of the wall
# time), peak RSS, API calls. Asserts nothing but that
# each command succeeds. Usage: scripts/bench_aws.sh [N]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/services.sh
source scripts/services.sh
# shellcheck source=scripts/lib_bench.sh
source scripts/lib_bench.sh
count="${1:-200}"

bench_setup
ensure_moto
# A clean emulator, as bench.sh starts from fresh databases (matters when STRATA_MOTO_URL
# names a server that is kept running).
moto_reset
vpc_id="$(moto_default_vpc)"
db_password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')"

# Prints the number of AWS API calls in strata's -verbose report, which is a line like
#   aws: 12 API calls (rds:DescribeDBInstances 1, ec2:DescribeSecurityGroups 1, ...)
# on stderr (src/cli/commands.rs, call_report). Several such lines are added up; none prints
# "n/a". Adjust the sed expression if that line's format changes.
api_calls() {
    sed -n 's/^aws: \([0-9][0-9]*\) API calls.*/\1/p' "$@" \
        | awk '{ n += $1; seen = 1 } END { if (seen) print n; else print "n/a" }'
}

# moto's own CPU seconds so far (user + system, from /proc), or nothing when this script did not
# start it: moto answers one call at a time, so its CPU time is the floor of strata's wall time.
moto_cpu() {
    [ -n "${_moto_pid:-}" ] && [ -r "/proc/${_moto_pid}/stat" ] || return 0
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/${_moto_pid}/stat"
}

# measure_aws LABEL ARGS...: runs strata ARGS in the current directory; prints label, wall
# seconds, strata's and moto's CPU seconds, peak RSS and API calls (ARGS should include -verbose).
measure_aws() {
    local label="$1" moto_before moto_after
    shift
    moto_before="$(moto_cpu)"
    bench_run "$@"
    moto_after="$(moto_cpu)"
    local moto="n/a"
    [ -n "$moto_before" ] && moto="$(awk -v a="$moto_after" -v b="$moto_before" 'BEGIN { printf "%.2f", a - b }')"
    printf '%-44s %8.2f s (%5.2f s CPU, moto %5s s CPU) %8d KiB peak RSS %8s API calls\n' \
        "$label" "$bench_seconds" "$bench_cpu" "$moto" "$bench_rss" "$(api_calls "$work/err" "$work/out")"
}

vars=(-var "vpc_id=${vpc_id}" -var "db_password=${db_password}")
echo "== examples/seed-terraform (moto at ${STRATA_MOTO_URL}, vpc ${vpc_id})"
dir="$work/seed"
mkdir -p "$dir" && cp examples/seed-terraform/*.tf "$dir/"
(cd "$dir" && measure_aws "apply (create everything)" apply -auto-approve -verbose "${vars[@]}")
(cd "$dir" && measure_aws "plan (no changes)" plan -detailed-exitcode -verbose "${vars[@]}")

echo "== generated: ${count} security groups and ${count} DB parameter groups"
dir="$work/generated"
mkdir -p "$dir"
{
    cat <<'TF'
variable "vpc_id" {
  type = string
}

# Region, endpoint and (fake) credentials come from the environment ensure_moto sets.
provider "aws" {}
TF
    for i in $(seq 1 "$count"); do
        cat <<TF

resource "aws_security_group" "sg${i}" {
  name        = "bench-sg-${i}"
  description = "strata bench group ${i}"
  vpc_id      = var.vpc_id

  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.$(( i / 256 )).$(( i % 256 )).0/24"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_db_parameter_group" "pg${i}" {
  name   = "bench-pg-${i}"
  family = "postgres14"

  parameter {
    name  = "work_mem"
    value = "$(( 16 + i % 64 ))MB"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "$(( 100 + i ))"
  }
}
TF
    done
} > "$dir/main.tf"
vars=(-var "vpc_id=${vpc_id}")
(cd "$dir" && measure_aws "apply (create $(( 2 * count )) resources)" apply -auto-approve -verbose "${vars[@]}")
(cd "$dir" && measure_aws "plan (no changes)" plan -detailed-exitcode -verbose "${vars[@]}")
