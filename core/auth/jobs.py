"""The accounts' scheduled job for `flask worker`: finished web sessions deleted nightly."""
from __future__ import annotations

from core.worker import ScheduledJob, register_scheduled


def register() -> None:
    from core.auth.cli import scheduled_prune_sessions

    # A quiet hour after the scans (02:30, 03:00) and the blacklist rules (03:30).
    register_scheduled(ScheduledJob("web-sessions-prune", scheduled_prune_sessions, "cron",
                                    {"hour": 4, "minute": 15}))
