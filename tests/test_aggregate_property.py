"""Property: after any sequence of creates, amends, voids and imports, the series aggregate
equals a recomputation from the batches themselves."""
from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.errors import ValidationFailed
from core.reference.models import ALL_PRODUCTS
from inspection.imports.importer import ImportOptions, import_batches
from inspection.models import Batch, SeriesMonth
from inspection.services.batches import NOTHING_CHANGED, amend_batch, create_batch, void_batch
from inspection.services.enterprises import create_enterprise
from tests.conftest import OUTSIDE_CODE, VALID_CODE, clean_database, make_code

CATEGORIES = ["food", "food.dairy", "food.dairy.liquid_milk", "farm.vegetable", "industrial", "drug"]
REGIONS = ["330000", "330100", "330106", "330212", "331127"]
DATES = [date(2024, 12, 31), date(2025, 1, 1), date(2025, 2, 14), date(2025, 6, 30)]
# Registered in a region other than their codes': an import's parser counts a batch as local by
# the code, the importer must correct it by the enterprise.
MOVED_OUT = make_code("91330212MA7Q8R9T0")  # a Ningbo code, registered in Nanjing
MOVED_IN = make_code("91320100MA7Q8R9T1")  # a Nanjing code, registered in Ningbo


def expected_aggregate(batches) -> Counter:
    """Recompute from scratch, walking ancestors by code shape (independent of the tree code)."""
    counts: Counter = Counter()
    for b in batches:
        if b.voided_at is not None:
            continue
        parts = b.category_code.split(".")
        categories = [".".join(parts[:i]) for i in range(1, len(parts) + 1)] + [ALL_PRODUCTS]
        regions = {b.region_code, b.region_code[:4] + "00", b.region_code[:2] + "0000"}
        month = b.sampled_on.strftime("%Y-%m")
        for c in categories:
            for r in regions:
                counts[(c, r, month, b.local, "n")] += 1
                counts[(c, r, month, b.local, "f")] += b.conclusion == "fail"
    return +counts


def stored_aggregate(session) -> Counter:
    counts: Counter = Counter()
    for s in session.scalars(select(SeriesMonth)):
        counts[(s.category_code, s.region_code, s.month, s.local, "n")] += s.batches
        counts[(s.category_code, s.region_code, s.month, s.local, "f")] += s.failed
    return +counts


batch_fields = st.fixed_dictionaries({
    "category": st.sampled_from(CATEGORIES),
    "region": st.sampled_from(REGIONS),
    "sampled_on": st.sampled_from(DATES),
    "conclusion": st.sampled_from(["pass", "fail"]),
    "enterprise_credit_code": st.sampled_from([VALID_CODE, OUTSIDE_CODE, MOVED_OUT, MOVED_IN, None]),
})
operation = st.one_of(
    st.tuples(st.just("create"), batch_fields),
    st.tuples(st.just("amend"), st.integers(0, 20), batch_fields),
    st.tuples(st.just("void"), st.integers(0, 20)),
    # rows, parsed in a forked child or not, the first one given twice or not
    st.tuples(st.just("import"), st.lists(batch_fields, min_size=1, max_size=4), st.booleans(), st.booleans()),
    # an earlier step's file again: unchanged rows, or conflicts with amended ones
    st.tuples(st.just("reimport"), st.integers(0, 20)),
)


def as_input(fields: dict, sample_no: str) -> dict:
    data = dict(fields, sample_no=sample_no,
                enterprise_name="某企业" if fields["enterprise_credit_code"] else None)
    data["fail_reason"] = "拒绝抽样" if data["conclusion"] == "fail" else None
    return data


def csv_of(rows: list[dict], start: int, twice: bool = False) -> bytes:
    lines = ["sample_no,sampled_on,category,region,result,enterprise_credit_code,enterprise_name,fail_reason"]
    for i, f in enumerate(rows):
        reason = "拒绝抽样" if f["conclusion"] == "fail" else ""
        lines.append(f"IMP{start}-{i},{f['sampled_on']},{f['category']},{f['region']},{f['conclusion']},"
                     f"{f['enterprise_credit_code'] or ''},{'某企业' if f['enterprise_credit_code'] else ''},{reason}")
    if twice:  # the same row again: unchanged, counted once
        lines.append(lines[1])
    return "\n".join(lines).encode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_aggregate_matches_recomputation(db_session, make_user, ops):
    clean_database()
    user, _ = make_user("admin")
    for code, region in ((MOVED_OUT, "320100"), (MOVED_IN, "330212")):
        create_enterprise(db_session, {"credit_code": code, "name": "迁址企业", "region": region}, user.id)
    files = []
    for step, op in enumerate(ops):
        live = list(db_session.scalars(select(Batch).where(Batch.voided_at.is_(None)).order_by(Batch.id)))
        if op[0] == "create":
            create_batch(db_session, as_input(op[1], f"S{step}"), user.id)
        elif op[0] == "amend" and live:
            target = live[op[1] % len(live)]
            changes = as_input(op[2], target.sample_no)
            del changes["sample_no"]
            try:
                amend_batch(db_session, target.id, changes, "property test", target.version, user.id)
            except ValidationFailed as refused:  # the same values again: refused, nothing written
                assert refused.message == NOTHING_CHANGED, refused.message
                db_session.rollback()
        elif op[0] == "void" and live:
            target = live[op[1] % len(live)]
            void_batch(db_session, target.id, "property test", None, user.id)
        elif op[0] == "import":
            files.append(csv_of(op[1], step, op[3]))
            result = import_batches(db_session, files[-1], ImportOptions("p.csv", user.id,
                                                                         parallel_bytes=0 if op[2] else -1))
            assert not result.rejected, result.rejected
        elif op[0] == "reimport" and files:
            result = import_batches(db_session, files[op[1] % len(files)], ImportOptions("p.csv", user.id))
            assert result.accepted == 0
        db_session.expire_all()
    assert stored_aggregate(db_session) == expected_aggregate(db_session.scalars(select(Batch)).all())
