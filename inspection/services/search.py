"""The batch list's free-text search: a sample number's beginning or any part of the product name.

On PostgreSQL, migrations 0010 to 0012 index both: sample numbers in `varchar_pattern_ops`
(prefix ranges), and in a GIN index `batch_search_keys(...)`: the distinct characters and
two-character runs of the product name, each also within the category's group, with keys of the
batch's category, region, sampling month and a failed conclusion, so that a word and the list's
other filters meet in one index scan. SQLite (small deployments) scans.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Callable

from sqlalchemy import Select, Text, and_, false, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from core.database import CUSTOM_PLAN
from inspection.models import SEARCH_KEYS_OF, Batch

SEARCH_MAX = Batch.product.type.length  # a longer search can match no product (nor a sample number)

# Rows of the list a search reads in the list's order before it gathers the product's
# matches from the index instead (see `_walk`).
WALK_ROWS = 20_000


# Keys batch_search_keys() (migration 0012) gives a batch besides its product's grams, which are
# one or two characters long: these are longer, so never equal to a gram.
FAILED_KEY = "k:fail"


def category_group(code: str) -> str:
    """The group of a category in the search index: its code's first two parts (food.aquatic)."""
    return ".".join(code.split(".")[:2])


def grouped_gram(group: str, gram: str) -> str:
    return f"g:{group}:{gram}"


def category_keys(codes: Iterable[str]) -> list[str]:
    return sorted(f"c:{code}" for code in codes)


def region_keys(codes: Iterable[str]) -> list[str]:
    return sorted(f"r:{code}" for code in codes)


def month_keys(first: date, last: date) -> list[str]:
    """The keys of the sampling months from `first` to `last`: year * 12 + month - 1."""
    return [f"m:{n}" for n in range(first.year * 12 + first.month - 1, last.year * 12 + last.month)]


def search_grams(words: str) -> list[str]:
    """What a product name must have among its grams in `batch_search_keys()` (the SQL function
    of migration 0012) to contain `words`: each two-character run of them, or their one character."""
    if len(words) == 1:
        return [words]
    return sorted({words[i:i + 2] for i in range(len(words) - 1)})


def _patterns(words: str) -> tuple[str, str]:
    """LIKE patterns (escape character backslash) of a sample-number prefix and a substring."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%", f"%{escaped}%"


def indexed(session: Session) -> bool:
    """Whether the database has the search indexes (PostgreSQL; SQLite scans)."""
    return session.get_bind().dialect.name == "postgresql"


@dataclass(frozen=True)
class IndexKeys:
    """A list's filters as keys of the search index: `among`, one set per filter, of which a
    batch must have one; `groups`, the category groups a category filter spans (None: no such
    filter), in which the words' grams are asked for; `rest`, the list's statement without the
    filters the keys say exactly (category, region, a failed conclusion). Given both, PostgreSQL
    intersected the index's rows with those filters' B-trees a second time (56 of 125 ms for 蔬菜
    in one county)."""
    among: list[list[str]]
    groups: list[str] | None
    rest: Select


def search_conditions(session: Session, words: str, among: Iterable[Collection[str]] = (),
                      groups: Collection[str] | None = None) -> list:
    """What a search asks, as alternatives: a sample number beginning with `words`; a product
    name containing them. On PostgreSQL the second also asks what its GIN index serves, implied
    by the LIKE and by the list's other filters (it changes no result): the words' grams, within
    one of `groups` if given (the category groups a category filter spans; a batch is in one
    group, so a batch with each gram in some of them has them all in its own), and one key of
    each set in `among` (the keys of the categories, regions, months or conclusion the list's
    filters allow)."""
    if len(words) > SEARCH_MAX:
        return [false()]
    prefix, substring = _patterns(words)
    in_product = Batch.product.like(substring, escape="\\")
    if indexed(session):
        keys = func.batch_search_keys(*(getattr(Batch, column) for column in SEARCH_KEYS_OF))
        grams = search_grams(words)
        if groups is None:
            asked = [keys.op("@>")(_array(grams))]
        elif len(groups) == 1:
            asked = [keys.op("@>")(_array(grouped_gram(next(iter(groups)), gram) for gram in grams))]
        else:
            asked = [keys.op("&&")(_array(grouped_gram(group, gram) for group in groups)) for gram in grams]
        asked += [keys.op("&&")(_array(allowed)) for allowed in among]
        in_product = and_(in_product, *asked)
    return [Batch.sample_no.like(prefix, escape="\\"), in_product]


def _array(keys: Iterable[str]):
    return literal(sorted(keys), ARRAY(Text))


OrderBy = Callable[..., list]  # (sort column, id column) -> ORDER BY clauses of the list's order


def search_ids(session: Session, stmt: Select, window: Select, filtered_on: Callable[..., Select], column,
               order_by: OrderBy, first: int, words: str, keys: IndexKeys | None = None) -> set[int]:
    """Ids among which the first `first` rows of `stmt` (the list's filters and cursor) matching
    the search are, in the order `order_by` gives of `column`, then id: the first `first` under
    each alternative. `window` is the list's rows in that order before its other filters,
    `filtered_on(rows)` the list's filters on a subquery of rows, `keys` the filters as the
    search index's keys (PostgreSQL).

    Each alternative runs on its own: as one OR, PostgreSQL evaluated the index's function again on
    every candidate row (2.3 s for a word 181,000 of 22 million batches have; 0.7 s apart).
    """
    if len(words) > SEARCH_MAX:
        return set()
    among, groups = (keys.among, keys.groups) if keys else ((), None)
    by_sample_no, in_products = search_conditions(session, words, among, groups)
    ids = set(session.scalars(stmt.where(by_sample_no).with_only_columns(Batch.id)
                              .order_by(*order_by(column, Batch.id)).limit(first)))
    walked = _walk(session, window, filtered_on, column, order_by, first, words)
    if len(walked) == first:
        return ids | set(walked)
    return ids | set(_gather(session, keys.rest if keys else stmt, in_products, column, order_by, first))


def _walk(session: Session, window: Select, filtered_on: Callable[..., Select], column, order_by: OrderBy,
          first: int, words: str) -> list[int]:
    """The first `first` rows matching the list's filters and having `words` in the product
    among the first WALK_ROWS rows of `window`.

    A word many products have (a quarter of a percent and up) fills a page soonest by reading
    the list in its order; gathering every match from the index and sorting them cost ~1 s for
    one 181,000 of 22 million batches have. A rare word is the other way round: reading in
    order would go through the whole table. PostgreSQL cannot tell which it is (it takes a
    word's bigrams and its LIKE for independent conditions and expected 120 rows of those
    181,000), and the walks it chose wrongly read all 22 million rows (53-253 s). So a search
    first reads at most WALK_ROWS rows in order, the other filters applied to those (the
    window holds only those an index keeps in the list's order: a category subtree's index
    entries are far apart in date order, 975,000 of them for 20,000 rows of food.aquatic), and
    only if they hold too few matches gathers them (`_gather`).
    """
    rows = aliased(Batch, window.limit(WALK_ROWS).subquery())
    _, substring = _patterns(words)
    stmt = filtered_on(rows).where(rows.product.like(substring, escape="\\"))
    return list(session.scalars(stmt.with_only_columns(rows.id)
                                .order_by(*order_by(getattr(rows, column.key), rows.id)).limit(first)))


def _gather(session: Session, stmt: Select, in_products, column, order_by: OrderBy, first: int) -> list[int]:
    """The first `first` rows of `stmt` with the words in the product, from all of them.

    The matches are gathered whole (as a MATERIALIZED common table expression) and only then
    put in order: given ORDER BY and LIMIT together, PostgreSQL would again weigh reading the
    list in order until enough rows match, and it chose that for 食 among drugs at 22 million
    batches (it expected 260,000 matches; there are none): 52 s. Gathered, the index's keys
    find the matches and no others (食 among drugs: 0.2 s).
    """
    matches = stmt.where(in_products).with_only_columns(Batch.id, column.label("sort_key")) \
        .cte("matches").prefix_with("MATERIALIZED")
    return list(session.scalars(select(matches.c.id).order_by(*order_by(matches.c.sort_key, matches.c.id))
                                .limit(first), execution_options=CUSTOM_PLAN))
