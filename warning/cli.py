"""`flask warning scan [--as-of YYYY-MM]`: run a warning scan now."""
from __future__ import annotations

import socket
import sys
import time

import click
from flask.cli import AppGroup

from core.errors import DomainError
from core.extensions import db
from warning.scan import ScanBusy, run_scan

warning_cli = AppGroup("warning", help="Early warning: scans.")


def scan_holder(origin: str) -> str:
    """Who holds the scan lease: the host, process and origin (cli, scheduler)."""
    import os

    return f"{socket.gethostname()}:{os.getpid()}:{origin}"


@warning_cli.command("scan")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM",
              help="The month assessed (default: the last complete month).")
def scan_command(as_of: str | None) -> None:
    """Assess every series and update the alerts; exit 1 if another scan holds the lease."""
    started = time.monotonic()
    try:
        scan = run_scan(db.session, as_of, scan_holder("cli"))
    except ScanBusy as busy:
        click.echo(f"error: {busy.message}", err=True)
        sys.exit(1)
    except DomainError as refused:
        click.echo(f"error: {refused.message}", err=True)
        sys.exit(2)
    click.echo(f"scan {scan.id} as of {scan.as_of}: {scan.series_assessed} series assessed, "
               f"alerts raised {scan.alerts_raised}, escalated {scan.alerts_escalated}, "
               f"resolved {scan.alerts_resolved} in {time.monotonic() - started:.1f} s")


def scheduled_scan() -> None:
    """The worker's scheduled scan (the last complete month); a held lease is not an error."""
    try:
        run_scan(db.session, None, scan_holder("scheduler"))
    except ScanBusy as busy:
        click.echo(f"scheduled scan skipped: {busy.message}", err=True)
