"""`flask warning scan [--as-of YYYY-MM]`: run a warning scan now.
`flask warning train [--as-of YYYY-MM]`: train the scans' risk model for a month.
`flask warning backtest --from YYYY-MM --to YYYY-MM --output alerts.csv`: the backtest.
`flask warning notify`: deliver the notices due now.
`flask warning rotate-webhook-secrets`, `flask warning webhook-key [--new]`: webhook secret keys."""
from __future__ import annotations

import logging
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from core.errors import DomainError
from core.extensions import db
from warning.notify.delivery import DeliverySettings, deliver_due
from warning.scan import ScanBusy, ensure_risk_model, run_scan, train_risk_model

log = logging.getLogger(__name__)
warning_cli = AppGroup("warning", help="Early warning: scans, backtests and notifications.")


def model_dir() -> str:
    """Where scans keep the month's risk model (WARNING_MODEL_DIR, else the instance folder)."""
    import os

    from flask import current_app

    return (current_app.config.get("WARNING_MODEL_DIR")
            or os.path.join(current_app.instance_path, "warning-models"))


def scan_holder(origin: str) -> str:
    """Who holds the scan lease and ran the scan: the operating-system login, host, process and
    origin (cli, scheduler)."""
    import os

    from core.audit import local_origin

    return f"{local_origin()}:{os.getpid()}:{origin}"[-128:]  # the lease holds 128


@warning_cli.command("scan")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM",
              help="The month assessed (default: the last complete month).")
def scan_command(as_of: str | None) -> None:
    """Assess every series and update the alerts; exit 1 if another scan holds the lease."""
    started = time.monotonic()
    try:
        scan = run_scan(db.session, as_of, scan_holder("cli"),
                        lease_seconds=current_app.config["SCAN_LEASE_SECONDS"], model_dir=model_dir())
    except ScanBusy as busy:
        click.echo(f"error: {busy.message}", err=True)
        sys.exit(1)
    except DomainError as refused:
        click.echo(f"error: {refused.message}", err=True)
        sys.exit(2)
    if scan.backfill:
        click.echo(f"scan {scan.id} as of {scan.as_of} is a backfill (an earlier month than the newest scan's, "
                   f"{scan.settings['newest_as_of']}): {scan.series_assessed} series assessed, alerts left "
                   f"unchanged, nothing notified in {time.monotonic() - started:.1f} s; model {scan.model_version}")
        return
    click.echo(f"scan {scan.id} as of {scan.as_of}: {scan.series_assessed} series assessed, "
               f"alerts raised {scan.alerts_raised}, escalated {scan.alerts_escalated}, "
               f"resolved {scan.alerts_resolved} in {time.monotonic() - started:.1f} s; "
               f"model {scan.model_version}"
               + (f" ({scan.settings['model']['reason']})" if scan.settings["model"].get("reason") else ""))


@warning_cli.command("train")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM",
              help="The month the model is for (default: the last complete month).")
def train_command(as_of: str | None) -> None:
    """Train the risk model the scans of a month load; exit 2 on a bad month."""
    started, cpu = time.monotonic(), time.process_time()
    try:
        summary = train_risk_model(db.session, as_of, model_dir())
    except DomainError as refused:
        click.echo(f"error: {refused.message}", err=True)
        sys.exit(2)
    took = f"in {time.monotonic() - started:.1f} s ({time.process_time() - cpu:.1f} s CPU)"
    if summary.get("reason"):
        click.echo(f"no model {took}: {summary['reason']}; scans stay classical")
    else:
        click.echo(f"model {summary['version']} for {summary['as_of']} {took}: "
                   f"{summary['rows']} series-months of label months "
                   f"{' to '.join(summary['label_months'])}, {summary['positives']} followed by "
                   "a crossing")


@warning_cli.command("backtest")
@click.option("--from", "first", required=True, metavar="YYYY-MM", help="The first month assessed.")
@click.option("--to", "last", required=True, metavar="YYYY-MM", help="The last month assessed.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The CSV file written (UTF-8).")
def backtest_command(first: str, last: str, output: str) -> None:
    """Assess every series as the system would have at the end of each month; write the
    series at blue or above to a CSV. Writes nothing to the database; exit 2 on bad months."""
    from core.clock import parse_month
    from warning.backtest import month_index, run_backtest, write_csv

    started = time.monotonic()
    try:
        parse_month(first), parse_month(last)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if month_index(first) > month_index(last):
        click.echo(f"error: --from {first} is after --to {last}", err=True)
        sys.exit(2)
    try:
        rows = run_backtest(db.session, first, last)
    finally:
        db.session.rollback()  # pure reading: end the read transaction, nothing to keep
    write_csv(rows, output)
    months = month_index(last) - month_index(first) + 1
    click.echo(f"backtest {first}..{last}: {months} months, {len(rows)} rows written to {output} "
               f"in {time.monotonic() - started:.1f} s")


@warning_cli.command("notify")
def notify_command() -> None:
    """Deliver the notices due now (email and webhooks); failures wait for their retry."""
    report = deliver_due(db.session, DeliverySettings.from_config(current_app.config))
    click.echo(f"notices sent {report.sent}, to retry {report.retrying}, failed for good {report.failed}")


@warning_cli.command("rotate-webhook-secrets")
def rotate_webhook_secrets_command() -> None:
    """Re-encrypt every webhook secret with the first key of WEBHOOK_SECRET_KEYS; exit 1 if a
    secret cannot be decrypted with any configured key (then nothing is changed)."""
    from warning.notify.sealing import SecretUnreadable
    from warning.notify.services import rotate_webhook_secrets

    try:
        count = rotate_webhook_secrets(db.session)
    except SecretUnreadable as exc:
        db.session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{count} webhook secrets re-encrypted with the first key of WEBHOOK_SECRET_KEYS")


@warning_cli.command("webhook-key")
@click.option("--new", "new", is_flag=True, help="Print a fresh random key instead.")
def webhook_key_command(new: bool) -> None:
    """Print the key derived from SECRET_KEY (the default of WEBHOOK_SECRET_KEYS), or a new one."""
    from cryptography.fernet import Fernet

    from warning.notify.sealing import derived_key

    click.echo(Fernet.generate_key().decode() if new else derived_key(current_app.config["SECRET_KEY"]))


def scheduled_notify() -> None:
    """The worker's outbox delivery."""
    deliver_due(db.session, DeliverySettings.from_config(current_app.config))


def scheduled_training() -> None:
    """The worker's monthly training of the risk model (the last complete month)."""
    summary = train_risk_model(db.session, None, model_dir())
    click.echo(f"risk model training: {summary.get('reason') or summary['version']}", err=True)


def scheduled_scan() -> None:
    """The worker's scheduled scan (the last complete month), after training the month's risk
    model if none fits (`ensure_risk_model`); a held lease is not an error."""
    try:
        trained = ensure_risk_model(db.session, None, model_dir())
    except Exception:  # a failed training (say, an unwritable model folder) must not stop the scan
        db.session.rollback()
        log.exception("risk model training before the scheduled scan failed")
        trained = None
    if trained is not None:
        click.echo(f"risk model trained before the scan: {trained.get('reason') or trained['version']}", err=True)
    try:
        run_scan(db.session, None, scan_holder("scheduler"),
                 lease_seconds=current_app.config["SCAN_LEASE_SECONDS"], model_dir=model_dir())
    except ScanBusy as busy:
        click.echo(f"scheduled scan skipped: {busy.message}", err=True)
