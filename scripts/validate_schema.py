#!/usr/bin/env python3
"""Check that a database holds the AI platform schema of examples/ai-platform.

The kind of post-deploy check an AI platform team runs: the six core tables
exist, and the three indexes the hot queries depend on exist, are valid, and
cover the expected columns in order.

The database is taken from the usual libpq environment (PGHOST, PGPORT,
PGUSER, PGPASSWORD, PGDATABASE) or from --database. Queries go through psql,
so only the Python standard library is needed.

Exit status: 0 when everything is in place, 1 when something is missing or
wrong, 2 when the database cannot be queried at all.
"""

import argparse
import os
import shutil
import subprocess
import sys

TABLES = [
    "users",
    "features",
    "models",
    "training_data",
    "audit_logs",
    "metadata_assets",
]

# index name -> (table, columns in order)
INDEXES = {
    "idx_features_user_id_timestamp": ("features", ["user_id", "timestamp"]),
    "idx_models_status": ("models", ["status"]),
    "idx_audit_logs_timestamp": ("audit_logs", ["timestamp"]),
}


class QueryError(Exception):
    pass


def psql(database, sql, params):
    """Run one query; return rows as lists of strings (tab-separated output)."""
    command = ["psql", "-X", "-q", "-w", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    if database:
        command += ["-d", database]
    for key, value in params.items():
        command += ["-v", f"{key}={value}"]
    result = subprocess.run(
        command,
        input=sql,
        capture_output=True,
        text=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")},
        check=False,
    )
    if result.returncode != 0:
        raise QueryError(result.stderr.strip() or f"psql exited with {result.returncode}")
    return [line.split("\t") for line in result.stdout.splitlines() if line]


def existing_tables(database, schema):
    rows = psql(
        database,
        """
        SELECT c.relname
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = :'schema' AND c.relkind IN ('r', 'p');
        """,
        {"schema": schema},
    )
    return {row[0] for row in rows}


def existing_indexes(database, schema):
    """index name -> (table, [columns], valid)"""
    rows = psql(
        database,
        """
        SELECT i.relname,
               t.relname,
               array_to_string(ARRAY(
                   SELECT coalesce(a.attname, '<expression>')
                     FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                     LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                    ORDER BY k.ord
               ), ','),
               ix.indisvalid
          FROM pg_index ix
          JOIN pg_class i ON i.oid = ix.indexrelid
          JOIN pg_class t ON t.oid = ix.indrelid
          JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = :'schema';
        """,
        {"schema": schema},
    )
    return {name: (table, columns.split(",") if columns else [], valid == "t") for name, table, columns, valid in rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", "-d", default=os.environ.get("PGDATABASE"), help="database name (default: $PGDATABASE)")
    parser.add_argument("--schema", default="public", help="schema holding the tables (default: public)")
    args = parser.parse_args()

    if shutil.which("psql") is None:
        print("validate_schema: psql is not installed (apt-get install postgresql-client)", file=sys.stderr)
        return 2

    where = "{}@{}:{}/{}".format(
        os.environ.get("PGUSER", "?"),
        os.environ.get("PGHOST", "localhost"),
        os.environ.get("PGPORT", "5432"),
        args.database or "(default database)",
    )
    try:
        tables = existing_tables(args.database, args.schema)
        indexes = existing_indexes(args.database, args.schema)
    except QueryError as err:
        print(f"validate_schema: cannot query {where}: {err}", file=sys.stderr)
        return 2

    problems = []
    for table in TABLES:
        if table in tables:
            print(f"  ok    table {args.schema}.{table}")
        else:
            problems.append(f"table {args.schema}.{table} is missing")

    for name, (table, columns) in INDEXES.items():
        found = indexes.get(name)
        expected = f"{name} ON {table} ({', '.join(columns)})"
        if found is None:
            problems.append(f"index {expected} is missing")
        elif (found[0], found[1]) != (table, columns):
            problems.append(f"index {name} is ON {found[0]} ({', '.join(found[1])}), expected ON {table} ({', '.join(columns)})")
        elif not found[2]:
            problems.append(f"index {name} exists but is INVALID (a failed concurrent build?)")
        else:
            print(f"  ok    index {expected}")

    for problem in problems:
        print(f"  FAIL  {problem}")
    if problems:
        print(f"validate_schema: {where}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"validate_schema: {where}: all {len(TABLES)} tables and {len(INDEXES)} indexes present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
