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
echo "== test suite on SQLite"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== test suite on PostgreSQL"
PG_URL=$(scripts/postgres.sh | tail -1)
TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
