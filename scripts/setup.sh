#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the pinned dependencies; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r "${1:-requirements.txt}"
