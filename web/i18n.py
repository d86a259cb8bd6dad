"""Language of the pages: Chinese by default, English by the user's choice (session + cookie).

Every user-visible string goes through gettext; dates and numbers through Babel's
formatters, so both follow the chosen locale.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_skeleton
from flask import Flask, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, format_percent, get_locale, gettext

from core.messages import Message, recognise

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
COOKIE = "lang"

babel = Babel()


def select_locale() -> str:
    """The user's stored choice, else Chinese (the bureau's working language)."""
    chosen = session.get(COOKIE) or request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def is_english() -> bool:
    return str(get_locale()) == "en"


def node_name(node) -> str:
    """A region's or category's name in the page's language."""
    if node is None:
        return ""
    return node.name_en if is_english() else node.name_zh


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return format_percent(value, format="#,##0." + "0" * digits + "%") if digits else format_percent(value)


def points(value: float | None) -> str:
    """A difference of two fractions in percentage points, signed."""
    if value is None:
        return "–"
    shown = round(value * 100, 1) + 0.0  # rounded first and +0.0: never "-0.0" (nor "+0.0")
    return ("+" if shown > 0 else "") + format_decimal(shown, format="#,##0.0")


def one_decimal(value: float | None) -> str:
    """A score as the API rounds it: always one decimal (75.0, not 75)."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0.0")


def when(value: date | datetime | None, style: str = "medium") -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return format_datetime(value, style)  # shown in BABEL_DEFAULT_TIMEZONE (Asia/Shanghai)
    return format_date(value, style)


ISO_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def month_name(value: str | None) -> str:
    """A month 'YYYY-MM' as the locale writes it (2025年7月, Jul 2025); other text as it is."""
    if not value or not ISO_MONTH.match(value):
        return value or "–"
    return format_skeleton("yMMM", date(int(value[:4]), int(value[5:]), 1), locale=get_locale())


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def translate(text: Any) -> str:
    """A service's message (a rule violation, an import rejection) in the page's language.

    A `core.messages.Message` carries its template and parameters; plain text stored earlier
    (a queued import's report) is matched back to its template. Anything else is shown as is.
    """
    if text is None:
        return ""
    message = text if isinstance(text, Message) else recognise(str(text))
    if message is None:
        return str(text)
    stored = not isinstance(text, Message)
    params = {name: _param(value, stored) for name, value in message.params.items()}
    return gettext(message.template, **params) if params else gettext(message.template)


def _param(value: Any, stored: bool) -> str:
    if isinstance(value, Message):
        return translate(value)
    if isinstance(value, (date, datetime)):
        return when(value)
    if isinstance(value, float):
        return format_decimal(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ("、" if not is_english() else ", ").join(_param(v, stored) for v in value)
    if isinstance(value, str) and ISO_MONTH.match(value):
        return month_name(value)  # "as of 2025年6月", as the tables write months
    if isinstance(value, str) and stored:
        # Parameters read back from stored text: a date, or a word the services declared.
        if _ISO_DAY.match(value):
            try:
                return when(date.fromisoformat(value))
            except ValueError:
                return value
        if ", " in value:
            return ("、" if not is_english() else ", ").join(_param(v, True) for v in value.split(", "))
        return translate(value)
    return str(value)


def register_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations"))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(percent=percent, points=points, one_decimal=one_decimal, when=when,
                                 number=format_decimal, tr=translate, month=month_name)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, node_name=node_name, current_locale=get_locale)
