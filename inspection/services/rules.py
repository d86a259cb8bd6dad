"""Rules every batch obeys, whether it comes from a form, the API or a file.

The same function checks all three paths, so an import row and an API body can never be
judged differently. It returns (field, reason) pairs instead of raising, so an import can
report every problem of a row at once.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from core.reference.trees import Trees
from inspection.credit_code import credit_code_error
from inspection.models import CONCLUSIONS, STAGES

FARM = "farm"

TEXT_LIMITS = {
    "sample_no": 64, "product": 200, "brand": 100, "specification": 100, "lot": 100,
    "sampling_agency": 200, "laboratory": 200, "report_no": 100, "fail_reason": 500,
    "enterprise_name": 200, "producer_name": 200,
}


def check_batch(data: dict[str, Any], trees: Trees, today: date) -> list[tuple[str, str]]:
    """Return every rule the batch `data` breaks, as (field, reason) pairs."""
    problems: list[tuple[str, str]] = []
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if value is not None and len(value) > limit:
            problems.append((name, f"longer than {limit} characters"))
    if not data.get("sample_no"):
        problems.append(("sample_no", "sample number is required"))
    category, region = data.get("category"), data.get("region")
    if category not in trees.categories:
        problems.append(("category", f"unknown category code '{category}'"))
    if region not in trees.regions:
        problems.append(("region", f"unknown region code '{region}'"))

    sampled, reported, produced = data.get("sampled_on"), data.get("reported_on"), data.get("production_date")
    if sampled is None:
        problems.append(("sampled_on", "sampling date is required"))
    elif sampled > today:
        problems.append(("sampled_on", f"sampling date {sampled} is in the future"))
    if reported is not None:
        if reported > today:
            problems.append(("reported_on", f"report date {reported} is in the future"))
        elif sampled is not None and reported < sampled:
            problems.append(("reported_on", "report date is before the sampling date"))
    if produced is not None and sampled is not None and produced > sampled:
        problems.append(("production_date", "production date is after the sampling date"))

    stage = data.get("stage")
    if stage is not None and stage not in STAGES:
        problems.append(("stage", f"stage must be one of {', '.join(STAGES)}"))

    conclusion = data.get("conclusion")
    items = data.get("items") or []
    failing = [i for i in items if i.get("verdict") == "fail"]
    if conclusion not in CONCLUSIONS:
        problems.append(("conclusion", "conclusion must be 'pass' or 'fail'"))
    elif conclusion == "pass" and failing:
        problems.append(("conclusion", "a passing batch cannot have failing test items"))
    elif conclusion == "pass" and data.get("fail_reason"):
        problems.append(("fail_reason", "a passing batch has no fail reason"))
    elif conclusion == "fail" and not failing and not data.get("fail_reason"):
        problems.append(("conclusion", "a failed batch needs a failing test item or a fail_reason"))

    code = data.get("enterprise_credit_code")
    if code:
        reason = credit_code_error(code)
        if reason:
            problems.append(("enterprise_credit_code", reason))
    elif data.get("enterprise_name") and not _is_farm(category, trees):
        problems.append(("enterprise_credit_code",
                         "a credit code is required when an enterprise is named (except farm produce)"))
    return problems


def _is_farm(category: str | None, trees: Trees) -> bool:
    return category in trees.categories and trees.categories.ancestors(category)[-1] == FARM
