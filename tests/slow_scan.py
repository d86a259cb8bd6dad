"""`flask warning scan ...` whose scan pauses after writing its rows, before it commits.

Run as `python -m tests.slow_scan SECONDS warning scan --as-of YYYY-MM` by the fault tests:
every assessment and alert is flushed (sent to the database inside the open transaction),
"rows written" is printed, then the process sleeps SECONDS so the test can kill it there or
start a second scan beside it.
"""
from __future__ import annotations

import sys
import time

from flask.cli import main

import warning.scan as scan

_record = scan._record
PAUSE = float(sys.argv[1])


def _slow_record(session, *args, **kwargs):
    _record(session, *args, **kwargs)
    session.flush()
    print("rows written", flush=True)
    time.sleep(PAUSE)


if __name__ == "__main__":
    scan._record = _slow_record
    sys.argv = ["flask", *sys.argv[2:]]
    main()
