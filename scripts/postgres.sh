#!/usr/bin/env bash
# Start a local PostgreSQL for the integration tests and notebooks, and print its URL.
# Debian/Ubuntu: the packaged cluster (it runs as the postgres user, as PostgreSQL requires).
# Elsewhere, or without root: say so; tests then use TEST_DATABASE_URL or testcontainers.
# The URL is the only line on stdout (callers capture it): everything else goes to stderr.
set -euo pipefail
ROLE=workbook
PASSWORD=workbook
DB=workbook
PORT=${WORKBOOK_PG_PORT:-5432}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -n -u postgres "$@"; fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "postgres.sh: PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
  exit 1
fi
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
if [ -z "$cluster" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster "$version" main --port "$PORT" >&2
  cluster="$version main"
fi
# shellcheck disable=SC2086
set -- $cluster
if ! pg_lsclusters --no-header | awk -v v="$1" -v n="$2" '$1==v && $2==n {print $4}' | grep -q online; then
  pg_ctlcluster "$1" "$2" start >&2  # it may print "Removed stale pid file."
fi
port=$(pg_lsclusters --no-header | awk -v v="$1" -v n="$2" '$1==v && $2==n {print $3}')
for _ in $(seq 1 30); do
  as_postgres pg_isready -q -p "$port" && break
  sleep 0.5
done
as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$ROLE'" | grep -q 1 ||
  as_postgres psql -p "$port" -qc "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 ||
  as_postgres createdb -p "$port" -O "$ROLE" "$DB"
# The tests connect over TCP with a password, not through the socket as postgres: prove that path.
if ! PGPASSWORD=$PASSWORD psql -h 127.0.0.1 -p "$port" -U "$ROLE" -d "$DB" -qtAc "SELECT 1" >/dev/null; then
  echo "postgres.sh: PostgreSQL runs, but $ROLE cannot log in over TCP at 127.0.0.1:$port" >&2
  exit 1
fi
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$port/$DB"
