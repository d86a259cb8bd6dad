"""Batch lists: filters over the reference trees and keyset (cursor) pagination.

A cursor holds the sort value and id of the last row returned, so page 10,000 costs the
same index seek as page 1 (no OFFSET scan).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, false, func, literal, or_, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from core.database import CUSTOM_PLAN
from core.errors import ValidationFailed
from core.messages import N_
from core.reference.trees import load_trees
from inspection.models import Batch
from inspection.services.rules import UNKNOWN_CATEGORY, UNKNOWN_REGION

BAD_CURSOR = N_("cursor is not one this API returned")
BAD_SORT = N_("sort must be one of %(sorts)s (prefix - for descending)")

SORTS = {"sampled_on": Batch.sampled_on, "sample_no": Batch.sample_no, "id": Batch.id}


@dataclass
class BatchFilter:
    sampled_from: date | None = None
    sampled_to: date | None = None
    category: str | None = None
    region: str | None = None
    enterprise_id: int | None = None
    conclusion: str | None = None
    stage: str | None = None
    include_voided: bool = False
    search: str | None = None  # a sample number's beginning or a word of the product's name


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, date) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort_key: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError
        if sort_key == "sampled_on":
            value = date.fromisoformat(value)
        elif sort_key == "id":
            value = int(value)
        elif not isinstance(value, str):
            raise ValueError
        return value, last_id
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationFailed.on("cursor", BAD_CURSOR) from None


def filtered(session: Session, f: BatchFilter, scope_region: str | None = None):
    """A select() of the batches matching the filter (and inside the caller's region scope)."""
    trees = load_trees(session)
    stmt = select(Batch)
    if not f.include_voided:
        stmt = stmt.where(Batch.voided_at.is_(None))
    if f.sampled_from:
        stmt = stmt.where(Batch.sampled_on >= f.sampled_from)
    if f.sampled_to:
        stmt = stmt.where(Batch.sampled_on <= f.sampled_to)
    if f.category:
        if f.category not in trees.categories:
            raise ValidationFailed.on("category", UNKNOWN_CATEGORY(code=f.category))
        stmt = stmt.where(Batch.category_code.in_(sorted(trees.categories.subtree(f.category))))
    for region in (f.region, scope_region):
        if region:
            if region not in trees.regions:
                raise ValidationFailed.on("region", UNKNOWN_REGION(code=region))
            subtree = trees.regions.subtree(region)
            if len(subtree) < len(trees.regions.nodes):  # the whole province needs no filter
                stmt = stmt.where(Batch.region_code.in_(sorted(subtree)))
    if f.enterprise_id is not None:
        stmt = stmt.where(Batch.enterprise_id == f.enterprise_id)
    if f.conclusion:
        stmt = stmt.where(Batch.conclusion == f.conclusion)
    if f.stage:
        stmt = stmt.where(Batch.stage == f.stage)
    if f.search and f.search.strip():
        stmt = stmt.where(or_(*search_conditions(session, f.search.strip())))
    return stmt


SEARCH_MAX = Batch.product.type.length  # a longer search can match no product (nor a sample number)


def search_conditions(session: Session, words: str) -> list:
    """What a search asks, as alternatives: a sample number beginning with `words`; a product
    name containing them."""
    if len(words) > SEARCH_MAX:
        return [false()]
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    in_product = Batch.product.like(f"%{escaped}%", escape="\\")
    if session.get_bind().dialect.name == "postgresql":
        # Lets the GIN index on search_grams(product) (migration 0010) gather the candidates;
        # the expression must be the index's own. Implied by the LIKE, so it changes no result.
        grams = literal(search_grams(words), ARRAY(Text))
        in_product = and_(in_product, func.search_grams(Batch.product).op("@>")(grams))
    return [Batch.sample_no.like(f"{escaped}%", escape="\\"), in_product]


def search_grams(words: str) -> list[str]:
    """What a product name must have among its `search_grams()` (the SQL function of migration
    0010) to contain `words`: each two-character run of them, or their one character."""
    if len(words) == 1:
        return [words]
    return sorted({words[i:i + 2] for i in range(len(words) - 1)})


def list_batches(session: Session, f: BatchFilter, sort: str = "-sampled_on", limit: int = 50,
                 cursor: str | None = None, scope_region: str | None = None) -> tuple[list[Batch], str | None]:
    """One page of batches and the cursor of the next page (None at the end)."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ValidationFailed.on("sort", BAD_SORT(sorts=list(SORTS)))
    column = SORTS[key]
    words = (f.search or "").strip()
    stmt = filtered(session, replace(f, search=None), scope_region)
    if cursor:
        value, last_id = decode_cursor(cursor, key)
        if key == "id":
            stmt = stmt.where(Batch.id < last_id if descending else Batch.id > last_id)
        else:
            # A row-value comparison, not "a < v OR (a = v AND id < i)": databases take it as
            # a range of the (sort key, id) indexes, where the OR form made PostgreSQL read
            # every row before the cursor again (page 10,000 at 1.4 million batches: 2.8 s).
            keyset, after = tuple_(column, Batch.id), tuple_(value, last_id)
            stmt = stmt.where(keyset < after if descending else keyset > after)
    order = [column.desc(), Batch.id.desc()] if descending else [column.asc(), Batch.id.asc()]
    if key == "id":
        order = order[:1]
    if words:
        # Each alternative of the search on its own, then the page of their union. As one OR,
        # PostgreSQL re-evaluated search_grams() on every candidate row (2.3 s for a word in
        # 181,000 of 22 million batches, 0.7 s apart); alone, each is an index condition. Each
        # is planned for its own values (a common word: walk the date order; a rare one: gather).
        ids = {i for condition in search_conditions(session, words)
               for i in session.scalars(stmt.where(condition).with_only_columns(Batch.id)
                                        .order_by(*order).limit(limit + 1), execution_options=CUSTOM_PLAN)}
        stmt = select(Batch).where(Batch.id.in_(ids))
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, column.key), last.id])
    return rows, next_cursor
