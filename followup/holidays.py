"""China's public holidays and make-up working days, from the State Council's notices:
国办发明电〔2024〕12号 (2025) and 国办发明电〔2025〕7号 (2026)."""
from __future__ import annotations

from datetime import date, timedelta


def _span(first: date, last: date, note: str) -> list[tuple[date, bool, str]]:
    return [(first + timedelta(days=i), False, note) for i in range((last - first).days + 1)]


def _work(note: str, *days: date) -> list[tuple[date, bool, str]]:
    return [(d, True, note) for d in days]


OFFICIAL: dict[int, list[tuple[date, bool, str]]] = {
    2025: [
        *_span(date(2025, 1, 1), date(2025, 1, 1), "元旦"),
        *_span(date(2025, 1, 28), date(2025, 2, 4), "春节"),
        *_work("春节调休上班", date(2025, 1, 26), date(2025, 2, 8)),
        *_span(date(2025, 4, 4), date(2025, 4, 6), "清明节"),
        *_span(date(2025, 5, 1), date(2025, 5, 5), "劳动节"),
        *_work("劳动节调休上班", date(2025, 4, 27)),
        *_span(date(2025, 5, 31), date(2025, 6, 2), "端午节"),
        *_span(date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节"),
        *_work("国庆节调休上班", date(2025, 9, 28), date(2025, 10, 11)),
    ],
    2026: [
        *_span(date(2026, 1, 1), date(2026, 1, 3), "元旦"),
        *_work("元旦调休上班", date(2026, 1, 4)),
        *_span(date(2026, 2, 15), date(2026, 2, 23), "春节"),
        *_work("春节调休上班", date(2026, 2, 14), date(2026, 2, 28)),
        *_span(date(2026, 4, 4), date(2026, 4, 6), "清明节"),
        *_span(date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
        *_work("劳动节调休上班", date(2026, 5, 9)),
        *_span(date(2026, 6, 19), date(2026, 6, 21), "端午节"),
        *_span(date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
        *_span(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
        *_work("国庆节调休上班", date(2026, 9, 20), date(2026, 10, 10)),
    ],
}
