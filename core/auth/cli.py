"""`flask users ...`: operators create users, reset passwords, issue or revoke API tokens and clear
out finished web sessions."""
from __future__ import annotations

import sys
from datetime import timedelta

import click
from flask import current_app

from core.auth.models import ROLES
from core.auth.services import (create_user, issue_token, prune_web_sessions, reset_password, revoke_tokens,
                                user_named)
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
@click.option("--name", "full_name", help="The person's full name, as records name them.")
def create(username: str, roles: tuple[str, ...], region: str, password: str | None, full_name: str | None) -> None:
    """Create a user; an existing username exits 1."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, username, password, list(roles), region, full_name=full_name)
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


@users_cli.command("reset-password")
@click.argument("username")
def reset(username: str) -> None:
    """Print a temporary password for USERNAME alone on the last line; the user must choose a new
    one at the next sign-in (an administrator locked out of the pages gets back in this way)."""
    user = user_named(db.session, username)
    if user is None:
        click.echo(f"error: no user '{username}'", err=True)
        sys.exit(1)
    value = reset_password(db.session, user.id, actor_id=None)
    click.echo(f"temporary password for {user.username} (shown once; to be changed at sign-in):")
    click.echo(value)


def scheduled_prune_sessions() -> int:
    """Delete the web sessions no cookie can use any more (run nightly by `flask worker`)."""
    config = current_app.config
    return prune_web_sessions(db.session, timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                              timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]))


@users_cli.command("prune-sessions")
def prune_sessions() -> None:
    """Delete the records of web sessions that are over (signed out, ended, idle or past the
    absolute limit); also run nightly by `flask worker`. Sign-ins and sign-outs stay in the audit log."""
    click.echo(f"deleted {scheduled_prune_sessions()} finished web session(s)")
