"""`flask users ...`: operators create users and issue or revoke API tokens."""
from __future__ import annotations

import sys

import click

from core.auth.models import ROLES
from core.auth.services import create_user, issue_token, revoke_tokens
from core.errors import DomainError
from core.extensions import db

users_cli = click.Group("users", help="Manage users and API tokens.")


def _fail(error: DomainError) -> None:
    click.echo(f"error: {error.message}", err=True)
    sys.exit(1)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="Role; repeat for several.")
@click.option("--region", required=True, help="Home region code (GB/T 2260), e.g. 330100.")
@click.option("--password", help="Prompted for (hidden, twice) when left out.")
def create(username: str, roles: tuple[str, ...], region: str, password: str | None) -> None:
    """Create a user; an existing username exits 1."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, username, password, list(roles), region)
    except DomainError as error:
        _fail(error)
    click.echo(f"created user {user.username} ({', '.join(sorted(user.roles))}; region {user.region_code})")


@users_cli.command("token")
@click.argument("username")
@click.option("--expires-days", default=90, show_default=True, type=int)
def token(username: str, expires_days: int) -> None:
    """Print a new API token for USERNAME alone on the last line."""
    try:
        value = issue_token(db.session, username, expires_days)
    except DomainError as error:
        _fail(error)
    click.echo(f"token for {username}, valid {expires_days} days (shown once):")
    click.echo(value)


@users_cli.command("revoke-tokens")
@click.argument("username")
def revoke(username: str) -> None:
    """Revoke every live API token of USERNAME."""
    try:
        count = revoke_tokens(db.session, username)
    except DomainError as error:
        _fail(error)
    click.echo(f"revoked {count} token(s) of {username}")
