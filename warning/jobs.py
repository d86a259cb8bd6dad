"""The warning package's scheduled jobs for `flask worker` (local time, Asia/Shanghai)."""
from __future__ import annotations

from core.worker import ScheduledJob, register_scheduled


def register() -> None:
    from warning.cli import scheduled_notify, scheduled_scan, scheduled_training

    # Nightly, after the day's lab reports; and at month close, for the month just ended.
    register_scheduled(ScheduledJob("warning-scan-nightly", scheduled_scan, "cron",
                                    {"hour": 2, "minute": 30}))
    register_scheduled(ScheduledJob("warning-scan-month-close", scheduled_scan, "cron",
                                    {"day": 1, "hour": 3, "minute": 0}))
    # The month's risk model, before the scans of the new month load it (warning/model_store.py).
    register_scheduled(ScheduledJob("warning-train-month-close", scheduled_training, "cron",
                                    {"day": 1, "hour": 1, "minute": 30}))
    # The outbox, every NOTIFY_POLL_SECONDS (read from the config the worker starts with).
    register_scheduled(ScheduledJob("warning-notify", scheduled_notify, "interval",
                                    lambda config: {"seconds": config["NOTIFY_POLL_SECONDS"]}))
