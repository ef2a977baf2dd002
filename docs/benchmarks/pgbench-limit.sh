#!/usr/bin/env bash
# The PostgreSQL limit for `patto bench transitions`: pgbench TPS of a transaction with one
# UPDATE and two INSERTs, at the same client count, on a scratch database it creates and
# drops. Usage: docs/benchmarks/pgbench-limit.sh [CLIENTS] [SECONDS]
# Connection: the usual libpq variables (PGHOST, PGUSER, ...); default postgres@127.0.0.1.
set -euo pipefail
clients=${1:-4}
seconds=${2:-15}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
db=patto_pgbench_$$
here=$(cd "$(dirname "$0")" && pwd)
createdb "$db"
trap 'dropdb --if-exists "$db"' EXIT
psql -q -d "$db" <<SQL
CREATE TABLE bench_instances (id bigint PRIMARY KEY, state text NOT NULL, version bigint NOT NULL);
CREATE TABLE bench_events (id bigserial PRIMARY KEY, instance_id bigint NOT NULL, prev_hash text NOT NULL,
  hash text NOT NULL, kind text NOT NULL, payload text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE bench_outbox (id bigserial PRIMARY KEY, message_id text NOT NULL UNIQUE, instance_id bigint,
  recipient text NOT NULL, template text NOT NULL, payload text NOT NULL,
  status text NOT NULL DEFAULT 'pending', created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO bench_instances
  SELECT c * 1000 + k, 'drafting', 1 FROM generate_series(0, $clients - 1) c, generate_series(1, 16) k;
SQL
pgbench -n -c "$clients" -j "$clients" -T "$seconds" -f "$here/pgbench-transition.sql" "$db" | grep -E '^(tps|latency|number of clients)'
