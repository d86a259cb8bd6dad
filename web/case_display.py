"""How the case page shows a case: its history in words, and the regions reached as the form
takes them back."""
from __future__ import annotations

import re
from typing import Any

from core.messages import recognise
from core.reference.trees import Tree
from followup.models import Case
from followup.services.cases import MOVED
from web.i18n import is_english

# What separates the regions typed into the form (web.followup.case_details splits on it).
REGION_SEPARATORS = re.compile(r"[\s,，、]+")


def split_regions(text: str | None) -> list[str]:
    return [part for part in REGION_SEPARATORS.split(text or "") if part]


def history(case: Case) -> list[dict[str, Any]]:
    """The case's events, oldest first: a status change as its two statuses (which the page
    names in its language), with the note given unless it is only the generated "a -> b"."""
    rows = []
    for event in case.events:
        moved = event.kind == "transition" and event.from_status and event.to_status
        note: Any = event.what
        if moved:
            said = recognise(event.what)
            note = None if said is not None and said.template == MOVED.template else event.what
        rows.append({"at": event.at, "from": event.from_status if moved else None, "to": event.to_status,
                     "note": note})
    return rows


def regions_reached(codes: list[str] | None, regions: Tree) -> str:
    """The regions reached as the form shows them: by names it takes back (a name that stands
    for exactly one region and holds no separator), in the page's language when it can, else by code."""
    def name(code: str) -> str:
        node = regions.nodes.get(code)
        if node is None:
            return code
        for text in (node.name_en, node.name_zh) if is_english() else (node.name_zh,):
            if text and not REGION_SEPARATORS.search(text) and regions.named(text) == [code]:
                return text
        return code

    return " ".join(name(code) for code in codes or [])
