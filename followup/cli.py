"""`flask followup calendar seed`, `flask followup blacklist-rules`, `flask followup demo`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from core.extensions import db

followup_cli = AppGroup("followup", help="Follow-ups: calendar, blacklist rules, demo data.")
calendar_cli = AppGroup("calendar", help="The working-day calendar.")
followup_cli.add_command(calendar_cli)


@calendar_cli.command("seed")
@click.option("--year", "years", type=int, multiple=True, help="Only this year (repeatable).")
def calendar_seed(years: tuple[int, ...]) -> None:
    """Store the official public holidays and make-up working days (idempotent)."""
    from followup.services.calendar_days import seed_official

    changed = seed_official(db.session, list(years) or None)
    click.echo(f"calendar: {changed} dates stored or changed")


@followup_cli.command("blacklist-rules")
def blacklist_rules() -> None:
    """Blacklist every enterprise a blacklist rule applies to (also run nightly by `flask worker`)."""
    from followup.services.blacklist import apply_rules

    for entry in apply_rules(db.session):
        click.echo(f"enterprise {entry.enterprise_id}: {entry.rule}: {entry.reason}")


def scheduled_blacklist_rules() -> None:
    from followup.services.blacklist import apply_rules

    apply_rules(db.session)


@followup_cli.command("demo")
def demo_command() -> None:
    """Follow-up demo data after `flask demo seed` and a first scan (idempotent)."""
    from followup.demo import seed_followup_demo

    for line in seed_followup_demo(db.session):
        click.echo(line)
