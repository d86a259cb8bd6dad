"""The follow-up package's scheduled job for `flask worker`: the blacklist rules, nightly."""
from __future__ import annotations

from core.worker import ScheduledJob, register_scheduled


def register() -> None:
    from followup.cli import scheduled_blacklist_rules

    # After the warning scan (02:30), so both read the day's batches.
    register_scheduled(ScheduledJob("followup-blacklist-rules", scheduled_blacklist_rules, "cron",
                                    {"hour": 3, "minute": 30}))
