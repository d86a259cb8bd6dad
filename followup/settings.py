"""The follow-up rules as settings: read from the app config (FOLLOWUP_* in config.py), never at import."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from flask import current_app


@dataclass(frozen=True)
class FollowupSettings:
    """One field per FOLLOWUP_<NAME> setting; the values and their meaning are in config.py."""

    disposal_months: int
    disposal_due_days: int
    retest_working_days: int
    food_recall_start_hours: dict
    food_recall_complete_working_days: dict
    drug_recall_notify_days: dict
    credit_severity_weights: dict
    credit_half_life_days: int
    credit_window_months: int
    credit_recall_weights: dict
    credit_traceability_weight: float
    credit_overdue_weight: float
    credit_retest_confirmed_weight: float
    credit_grades: dict
    blacklist_serious_failures: int
    blacklist_window_months: int
    refusal_patterns: tuple
    plan_thin_batches: int
    plan_weights: dict


def load_settings(config: dict[str, Any] | None = None) -> FollowupSettings:
    """The FOLLOWUP_* values of `config` (default: the current app's), as one object."""
    config = current_app.config if config is None else config
    values = {f.name: config["FOLLOWUP_" + f.name.upper()] for f in fields(FollowupSettings)}
    values["refusal_patterns"] = tuple(values["refusal_patterns"])
    return FollowupSettings(**values)
