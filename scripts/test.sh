#!/usr/bin/env bash
# Install everything and run the whole test suite, on SQLite and then on a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt
echo "== test suite on SQLite"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== test suite on PostgreSQL"
PG_URL=$(scripts/postgres.sh | tail -1)
TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
