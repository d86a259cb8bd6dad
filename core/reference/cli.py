"""`flask seed reference`: load the region and category trees (idempotent)."""
from __future__ import annotations

import click

from core.extensions import db
from core.reference.seed import seed_reference

seed_cli = click.Group("seed", help="Load reference data.")


@seed_cli.command("reference")
def reference() -> None:
    """Insert or update regions, categories and baseline floors; safe to run again."""
    counts = seed_reference(db.session)
    click.echo("reference data: " + ", ".join(f"{v} new {k}" for k, v in counts.items()))
