"""Local dates: the regulator works in Asia/Shanghai, whatever the server's zone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def month_zh(month: str | None) -> str:
    """'2024-06' as the Chinese pages write a month (2024年6月); anything else as it is."""
    if month and len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit():
        return f"{month[:4]}年{int(month[5:])}月"
    return month or ""


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def parse_month(text: str) -> tuple[int, int]:
    """Parse `YYYY-MM`; raise ValueError with a readable message otherwise."""
    try:
        year_s, month_s = text.split("-")
        year, month = int(year_s), int(month_s)
        if len(year_s) != 4 or len(month_s) != 2 or year < 1 or not 1 <= month <= 12:
            raise ValueError
    except ValueError:
        raise ValueError(f"'{text}' is not a month in YYYY-MM form") from None
    return year, month


def month_end(year: int, month: int) -> date:
    if month == 12:
        return date(year, 12, 31)
    return date.fromordinal(date(year, month + 1, 1).toordinal() - 1)


def shift_month(month: str, k: int) -> str:
    """The month `k` months after `month` (before it when k < 0), never before 0001-01."""
    year, m = parse_month(month)
    index = max(12, year * 12 + m - 1 + k)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
