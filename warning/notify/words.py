"""The words notices use for codes: levels, actions and months as the Chinese pages write them."""
from __future__ import annotations

from core.clock import month_zh

LEVEL_ZH = {"none": "无", "blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
ACTION_ZH = {"raised": "新预警", "escalated": "预警升级", "escalated_by_user": "人工上报"}
SCHEMA_VERSION = 1  # of the webhook JSON (README, "Alerts and notifications"); raised on a breaking change


def level_zh(level: str | None) -> str:
    return LEVEL_ZH.get(level or "", level or "")


def span_zh(span: dict | None) -> str:
    """{'from': '2024-04', 'to': '2024-06'} as 2024年4月至2024年6月 (one month alone when equal)."""
    if not span:
        return ""
    first, last = month_zh(span.get("from")), month_zh(span.get("to"))
    return first if first == last else f"{first}至{last}"


def percent(fraction: float | None) -> str:
    """0.9134 as 91.3%, 0.93 as 93%."""
    return "" if fraction is None else f"{100 * fraction:.1f}".rstrip("0").rstrip(".") + "%"
