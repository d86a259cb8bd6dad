#!/usr/bin/env bash
# Start a streaming-replication standby (hot standby: read-only) of the test cluster that
# scripts/postgres.sh runs, for the read-replica tests. Prints the standby's database URL on
# its last line. Usage: scripts/postgres-standby.sh [DATA_DIR] [PORT] [PRIMARY_PORT]
set -euo pipefail
DATA=${1:-/tmp/inspection-pg-standby}
PORT=${2:-55434}
PRIMARY_PORT=${3:-55433}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi
system_id() { "$BIN/psql" -h 127.0.0.1 -p "$1" -U postgres -tAc "SELECT system_identifier FROM pg_control_system()"; }
if [ -f "$DATA/postmaster.pid" ] && "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  # A standby of an earlier cluster (scripts/postgres.sh made a new one since) is replaced.
  if [ "$(system_id "$PORT")" != "$(system_id "$PRIMARY_PORT")" ]; then
    "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null
  fi
fi
if [ -f "$DATA/postmaster.pid" ] && "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  :
else
  rm -rf "$DATA"
  mkdir -p -m 700 "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
  # -R writes standby.signal and the primary's address: the copy starts as its standby.
  "${RUN_AS[@]}" "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" -R -X stream -c fast >/dev/null
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c hot_standby=on" start >/dev/null
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT pg_is_in_recovery()" | grep -q t
echo "postgresql://postgres@127.0.0.1:$PORT/inspection_test"
