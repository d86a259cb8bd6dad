#!/usr/bin/env bash
# Install everything and run the whole test suite, on SQLite and then on a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt
# The browser tests drive Debian's Chromium (no browser download); CJK fonts so pages and
# screenshots show Chinese.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
PG_URL=$(scripts/postgres.sh | tail -1)
# A streaming standby of that cluster, for the statistics read-replica tests.
REPLICA_URL=$(scripts/postgres-standby.sh | tail -1)
# The two runs side by side (each is mostly one Python process; together ~7 minutes instead of
# ~11 on two cores). Each writes its own log, printed when both are done.
logs=$(mktemp -d)
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" >"$logs/sqlite.log" 2>&1 &
sqlite_run=$!
TEST_DATABASE_URL="$PG_URL" TEST_REPLICA_URL="$REPLICA_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@" >"$logs/postgresql.log" 2>&1 &
postgresql_run=$!
status=0
wait "$sqlite_run" || status=1
echo "== test suite on SQLite"
cat "$logs/sqlite.log"
wait "$postgresql_run" || status=1
echo "== test suite on PostgreSQL ($PG_URL)"
cat "$logs/postgresql.log"
rm -rf "$logs"
exit "$status"
