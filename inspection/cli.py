"""`flask inspection import FILE` and `flask demo seed`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app

from core.auth.models import User
from core.auth.permissions import may, scope_of
from core.auth.services import user_named
from core.extensions import db
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.reader import FileRefused

inspection_cli = click.Group("inspection", help="Inspection records.")
demo_cli = click.Group("demo", help="Demo data for a newcomer's first look.")


def _user(username: str) -> User:
    user = user_named(db.session, username)  # any case, as at sign-in
    if user is None:
        click.echo(f"error: no user '{username}'", err=True)
        sys.exit(2)
    return user


@inspection_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", required=True,
              help="The user the rows are recorded for, with that user's rights and region.")
@click.option("--atomic", is_flag=True, help="Store nothing if any row is rejected.")
def import_command(file: Path, username: str, atomic: bool) -> None:
    """Import batches from a CSV/XLSX FILE; print the report as JSON.

    Exit 0 when nothing was rejected, 1 when some rows were, 2 when the file was refused.
    """
    user = _user(username)
    # The rows are recorded as this user's: with that user's rights, as over the API.
    if not user.active or not may(user, "record"):
        click.echo(f"error: user '{username}' may not record batches (disabled, or no inspector "
                   "or admin role)", err=True)
        sys.exit(2)
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if file.stat().st_size > limit:
        click.echo(json.dumps({"refused": f"the file is over the {limit:,}-byte limit"}))
        sys.exit(2)
    content = file.read_bytes()
    options = ImportOptions(filename=file.name, user_id=user.id, atomic=atomic, scope=scope_of(user),
                            max_bytes=limit,
                            max_rows=current_app.config["IMPORT_MAX_ROWS"],
                            parallel_bytes=current_app.config["IMPORT_PARALLEL_BYTES"])
    with click.progressbar(length=max(content.count(b"\n"), 1), label="validating rows",
                           file=sys.stderr, show_pos=True) as bar:
        def progress(done: int, _total: int) -> None:
            bar.update(done - bar.pos)
        try:
            result = import_batches(db.session, content, options, progress)
        except FileRefused as refused:
            db.session.rollback()
            click.echo(json.dumps({"refused": str(refused)}, ensure_ascii=False))
            sys.exit(2)
    click.echo(json.dumps(result.report(), ensure_ascii=False, indent=1))
    sys.exit(1 if result.rejected else 0)


@demo_cli.command("seed")
@click.option("--months", default=36, show_default=True, help="How many months of history.")
@click.option("--seed", "rng_seed", default=20261130, show_default=True, help="Random seed.")
def demo_seed(months: int, rng_seed: int) -> None:
    """Load reference data, demo users and years of realistic sampling data (idempotent)."""
    from inspection.demo import seed_demo

    summary = seed_demo(db.session, months=months, seed=rng_seed)
    for line in summary:
        click.echo(line)
