#!/usr/bin/env bash
# Run the system on SQLite with demo data: migrate, seed, then gunicorn + `flask worker`.
# Open http://127.0.0.1:${PORT:-8000}/api/docs ; demo users are listed in the README.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
export FLASK_APP=wsgi APP_CONFIG=${APP_CONFIG:-development}
.venv/bin/flask db upgrade
.venv/bin/flask demo seed
.venv/bin/flask warning train  # the month's risk model (the worker trains it after each month closes)
.venv/bin/flask warning scan  # so the alert inbox is filled before the first nightly scan
# Three earlier months as the system would have scanned them (backfill scans: assessments only,
# alerts untouched), so the alert inbox's "how past warnings turned out" has a record to show.
for back in 4 7 10; do
  month=$(date -d "$(date +%Y-%m-01) -$back month" +%Y-%m)
  .venv/bin/flask warning train --as-of "$month" >/dev/null
  .venv/bin/flask warning scan --as-of "$month"
done
.venv/bin/flask followup demo  # calendar, disposals, cases, a blacklisted enterprise
.venv/bin/flask worker &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
.venv/bin/gunicorn --workers "${WEB_WORKERS:-2}" --bind "${BIND:-127.0.0.1:${PORT:-8000}}" \
  --access-logfile - wsgi:app
