"""Rules every batch obeys, whether it comes from a form, the API or a file.

The same function checks all three paths, so an import row and an API body can never be
judged differently. It returns (field, reason) pairs instead of raising, so an import can
report every problem of a row at once.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from core.errors import ValidationFailed
from core.messages import N_, Message
from core.reference.trees import Tree, Trees
from inspection.credit_code import credit_code_error
from inspection.models import CONCLUSIONS, STAGES

FARM = "farm"
# A sampling date before this is a mistyped year (0202 for 2022, or an Excel serial read as a
# date), never a batch: it would open a series decades before the province's records and sit
# in no period anyone reads. Supervision sampling records in electronic form start well after.
EARLIEST_SAMPLING = date(2000, 1, 1)
TOO_LONG = N_("longer than %(limit)s characters")
SAMPLE_NO_REQUIRED = N_("sample number is required")
SAMPLE_NO_SPACES = N_("sample number begins or ends with a space")
ITEM_NAME_REQUIRED = N_("a test item needs its name")
BLANK_TEXT = N_("only spaces: leave it out (or null) or write the value")
UNKNOWN_CATEGORY = N_("unknown category code '%(code)s'")
UNKNOWN_REGION = N_("unknown region code '%(code)s'")
# A batch's codes are typed in files and API bodies: say where the codes are, and when the
# value is the name of exactly one node (a file's "饼干" for food.biscuit), which code it names.
# Names are never taken for codes: a name may be shared, or renamed later.
BATCH_UNKNOWN_CATEGORY = N_("unknown category code '%(code)s' (the codes are listed on the import page "
                            "and by GET /api/categories)")
BATCH_UNKNOWN_REGION = N_("unknown region code '%(code)s' (the codes are listed on the import page "
                          "and by GET /api/regions)")
CATEGORY_NAME_GIVEN = N_("unknown category code '%(code)s': did you mean %(suggestion)s? "
                         "('%(code)s' is that category's name)")
REGION_NAME_GIVEN = N_("unknown region code '%(code)s': did you mean %(suggestion)s? "
                       "('%(code)s' is that region's name)")
SAMPLED_REQUIRED = N_("sampling date is required")
SAMPLED_FUTURE = N_("sampling date %(date)s is in the future")
SAMPLED_EARLY = N_("sampling date %(date)s is before %(earliest)s: is the year mistyped?")
REPORTED_FUTURE = N_("report date %(date)s is in the future")
REPORTED_EARLY = N_("report date is before the sampling date")
PRODUCED_LATE = N_("production date is after the sampling date")
BAD_STAGE = N_("stage must be one of %(stages)s")
BAD_CONCLUSION = N_("conclusion must be 'pass' or 'fail'")
PASS_WITH_FAILING_ITEM = N_("a passing batch cannot have failing test items")
PASS_WITH_FAIL_REASON = N_("a passing batch has no fail reason")
FAIL_WITHOUT_REASON = N_("a failed batch needs a failing test item or a fail_reason")
CODE_REQUIRED = N_("a credit code is required when an enterprise is named (except farm produce)")

TEXT_LIMITS = {
    "sample_no": 64, "product": 200, "brand": 100, "specification": 100, "lot": 100,
    "sampling_agency": 200, "laboratory": 200, "report_no": 100, "fail_reason": 500,
    "enterprise_name": 200, "producer_name": 200,
}


def known_region(trees: Trees, code: str) -> str:
    """`code` if it is a region of the tree, else a 422 naming the `region` parameter: a filter
    by a mistyped code must not read as "nothing there"."""
    if code not in trees.regions:
        raise ValidationFailed.on("region", UNKNOWN_REGION(code=code))
    return code


def check_written_text(written: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems with text the API takes as sent (the form and the importer strip it), checked
    on what a write sends, so a batch stored before these rules can still be amended."""
    problems = []
    sample_no = written.get("sample_no")
    if sample_no and sample_no != sample_no.strip():  # " SP1" would be a second "SP1"
        problems.append(("sample_no", SAMPLE_NO_SPACES))
    # Spaces are not a value: "   " would register an enterprise named "" or show a blank product.
    problems += [(name, BLANK_TEXT) for name in TEXT_LIMITS
                 if name != "sample_no" and _blank(written.get(name))]
    for k, item in enumerate(written.get("items") or []):
        if not (item.get("item") or "").strip():
            problems.append((f"items.{k}.item", ITEM_NAME_REQUIRED))
        problems += [(f"items.{k}.{f}", BLANK_TEXT) for f in ("value", "unit", "limit", "standard")
                     if _blank(item.get(f))]
    return problems


def _blank(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not value.strip()


def check_batch(data: dict[str, Any], trees: Trees, today: date) -> list[tuple[str, str]]:
    """Return every rule the batch `data` breaks, as (field, reason) pairs."""
    problems: list[tuple[str, str]] = []
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name)
        if value is not None and len(value) > limit:
            problems.append((name, TOO_LONG(limit=limit)))
    if not (data.get("sample_no") or "").strip():  # blank (the API takes text as sent) is none
        problems.append(("sample_no", SAMPLE_NO_REQUIRED))
    category, region = data.get("category"), data.get("region")
    if category not in trees.categories:
        problems.append(("category", _unknown(trees.categories, category, BATCH_UNKNOWN_CATEGORY,
                                              CATEGORY_NAME_GIVEN)))
    if region not in trees.regions:
        problems.append(("region", _unknown(trees.regions, region, BATCH_UNKNOWN_REGION, REGION_NAME_GIVEN)))

    sampled, reported, produced = data.get("sampled_on"), data.get("reported_on"), data.get("production_date")
    if sampled is None:
        problems.append(("sampled_on", SAMPLED_REQUIRED))
    elif sampled > today:
        problems.append(("sampled_on", SAMPLED_FUTURE(date=sampled)))
    elif sampled < EARLIEST_SAMPLING:
        problems.append(("sampled_on", SAMPLED_EARLY(date=sampled, earliest=EARLIEST_SAMPLING)))
    if reported is not None:
        if reported > today:
            problems.append(("reported_on", REPORTED_FUTURE(date=reported)))
        elif sampled is not None and reported < sampled:
            problems.append(("reported_on", REPORTED_EARLY))
    if produced is not None and sampled is not None and produced > sampled:
        problems.append(("production_date", PRODUCED_LATE))

    stage = data.get("stage")
    if stage is not None and stage not in STAGES:
        problems.append(("stage", BAD_STAGE(stages=STAGES)))

    conclusion = data.get("conclusion")
    items = data.get("items") or []
    failing = [i for i in items if i.get("verdict") == "fail"]
    if conclusion not in CONCLUSIONS:
        problems.append(("conclusion", BAD_CONCLUSION))
    elif conclusion == "pass" and failing:
        problems.append(("conclusion", PASS_WITH_FAILING_ITEM))
    elif conclusion == "pass" and data.get("fail_reason"):
        problems.append(("fail_reason", PASS_WITH_FAIL_REASON))
    elif conclusion == "fail" and not failing and not (data.get("fail_reason") or "").strip():
        problems.append(("conclusion", FAIL_WITHOUT_REASON))

    code = data.get("enterprise_credit_code")
    if code:
        reason = credit_code_error(code)
        if reason:
            problems.append(("enterprise_credit_code", reason))
    elif (data.get("enterprise_name") or data.get("producer_name")) and not _is_farm(category, trees):
        # a seller named without a code (producer_name) is farm produce's exception, as the
        # enterprise name is: the rule holds on every path
        problems.append(("enterprise_credit_code", CODE_REQUIRED))
    return problems


def _unknown(tree: Tree, value: Any, unknown: Message, name_given: Message) -> Message:
    named = tree.named(value) if isinstance(value, str) else []
    if len(named) == 1:
        return name_given(code=value, suggestion=named[0])
    return unknown(code=value)


def _is_farm(category: str | None, trees: Trees) -> bool:
    return category in trees.categories and trees.categories.ancestors(category)[-1] == FARM
