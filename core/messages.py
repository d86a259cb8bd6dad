"""Messages the use cases send to people: English text that pages can show in another language.

A service raising a rule violation (or an import rejecting a row) writes `N_("template
%(name)s")(name=value)`. The result is a `Message`: a `str` holding the English text, which
is what the JSON API sends (stable, English, whatever the caller's language), and which keeps
the template and the parameters, so the web layer can translate the template with gettext and
format the parameters (dates, numbers, nested messages) for the reader's locale. `N_` also
marks the template for extraction (`pybabel extract -k N_`). core and the domain packages
stay free of Flask and of any locale.

Text that was stored as plain English (a queued import's report kept in its job) is matched
back to its template by `recognise`, so it is translated as well.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_TEMPLATES: dict[str, "Message"] = {}
_PATTERNS: list[tuple[re.Pattern, "Message"]] | None = None


def english(value: Any) -> str:
    """A parameter as the English text shows it (what the API has always sent)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(english(v) for v in value)
    return str(value)


class Message(str):
    """English text with the template and parameters it was made from."""

    __slots__ = ("template", "params")

    def __new__(cls, template: str, params: dict[str, Any] | None = None) -> "Message":
        text = template % {k: english(v) for k, v in params.items()} if params else template
        message = super().__new__(cls, text)
        message.template, message.params = template, dict(params or {})
        return message

    def __call__(self, **params: Any) -> "Message":
        """This template with its parameters filled in."""
        return Message(self.template, params)

    def __reduce__(self):
        # Import rejections cross a process boundary pickled (inspection.imports.worker).
        return Message, (self.template, self.params)


def N_(template: str) -> Message:
    """Declare a message template (and mark it for translation); call it to fill it in."""
    message = _TEMPLATES.get(template)
    if message is None:
        message = _TEMPLATES[template] = Message(template)
        global _PATTERNS
        _PATTERNS = None
    return message


def _patterns() -> list[tuple[re.Pattern, Message]]:
    global _PATTERNS
    if _PATTERNS is None:
        compiled = []
        for template, message in _TEMPLATES.items():
            parts, last, seen = [], 0, set()
            for match in _PLACEHOLDER.finditer(template):
                name = match.group(1)
                parts.append(re.escape(template[last:match.start()]))
                parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
                seen.add(name)
                last = match.end()
            parts.append(re.escape(template[last:]))
            compiled.append((re.compile("".join(parts), re.S), message))
        # The most literal text first: "sample number is required" before "%(field)s is required".
        compiled.sort(key=lambda p: -len(_PLACEHOLDER.sub("", p[1].template)))
        _PATTERNS = compiled
    return _PATTERNS


def recognise(text: str) -> Message | None:
    """The declared message whose English text `text` is (parameters as text), or None."""
    if isinstance(text, Message):
        return text
    for pattern, message in _patterns():
        match = pattern.fullmatch(text)
        if match:
            return message(**match.groupdict())
    return None
