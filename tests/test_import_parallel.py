"""Large imports are parsed in a forked child process: the result must not depend on it.

The chunk size is made small so that a file of a few hundred rows crosses many chunks:
duplicates, conflicts and enterprises registered in one chunk and named again in a later one.
"""
from __future__ import annotations

import multiprocessing
import os

import pytest
from sqlalchemy import DateTime, select, text

from core.extensions import db
from inspection.imports import chunks, importer
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.reader import FileRefused
from tests.conftest import VALID_CODE, clean_database, make_code

HEADER = ("sample_no,sampled_on,reported_on,category,region,result,stage,enterprise_credit_code,"
          "enterprise_name,product,failed_items,fail_reason")
COMPARED = ("enterprises", "batches", "test_items", "series_months", "import_runs", "audit_log")
LATE_CODE = make_code("91330212MA9999999")  # named without a name first, registered later
CATEGORIES = ("food.dairy.liquid_milk", "farm.vegetable", "industrial")
REGIONS = ("330106", "330212", "331127")


def csv_bytes(rows: list[str]) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def good(i: int, sample_no: str | None = None) -> str:
    code = make_code(f"91330212MA{i % 37:07d}") if i % 5 == 0 else (VALID_CODE if i % 5 == 1 else "")
    name = f"企业{i % 37}" if code else ("某农贸市场" if i % 5 == 2 else "")
    category = "farm.vegetable" if not code else CATEGORIES[i % 3]
    failed = i % 7 == 3
    return (f"{sample_no or f'G-{i}'},2025-{1 + i % 12:02d}-{1 + i % 28:02d},,{category},{REGIONS[i % 3]},"
            f"{'fail' if failed else 'pass'},{'生产' if i % 4 else ''},{code},{name},产品{i},"
            f"{'铅;菌落总数' if failed else ''},")


PRE = [good(1000, "S-1"), good(1001, "S-2")]
BAD = [
    "B-1,2025-13-01,,industrial,330106,pass,,,,,,",  # not a date
    "B-2,2025-03-01,,no.such,330106,pass,,,,,,",  # unknown category
    "B-3,2025-03-01,,industrial,999999,pass,,,,,,",  # unknown region
    "B-4,2025-03-01,,industrial,330106,maybe,,,,,,",  # unknown result
    "B-5,2025-03-01,,industrial,330106,pass,wholesale,,,,,",  # unknown stage
    "B-6,2999-03-01,,industrial,330106,pass,,,,,,",  # in the future
    "B-7,2025-03-01,2025-02-01,industrial,330106,pass,,,,,,",  # reported before sampled
    f"B-8,2025-03-01,,industrial,330106,pass,,{VALID_CODE[:-1]}X,某公司,,,",  # bad check digit
    "B-9,2025-03-01,,industrial,330106,pass,,,,,铅,",  # passing with a failed item
    "B-10,2025-03-01,,industrial,330106,fail,,,,,,",  # failing without item or reason
    "B-11,2025-03-01,,industrial,330106,pass,,,,,,,extra",  # more cells than columns
    "B-\x0012,2025-03-01,,industrial,330106,pass,,,,,,",  # NUL character
    ",,,industrial,330106,,,,,,,",  # required cells missing
    f"B-14,2025-03-01,,industrial,330106,pass,,,,{'长' * 201},,",  # text too long
    f"B-15,2025-03-01,,industrial,330106,pass,,{make_code('91330212MA8888888')},,,,",  # unregistered, no name
]


def mixed_file() -> bytes:
    rows = [good(i) for i in range(240)]
    rows[10] = f"L-1,2025-03-01,,industrial,330106,pass,,{LATE_CODE},,,,"  # rejected: no name yet
    rows[100] = f"L-2,2025-03-02,,industrial,330106,pass,,{LATE_CODE},宁波迟到电器有限公司,,,"
    rows[150] = f"L-3,2025-03-03,,industrial,330106,pass,,{LATE_CODE},,,,"  # registered by now
    rows[60:60] = [PRE[0], PRE[1].replace("产品1001", "改过的产品")]  # unchanged, conflict
    rows[130:130] = [good(5), good(7).replace("产品7", "别的产品"), ""]  # in-file repeat, clash, blank
    for n, bad in enumerate(BAD):
        rows.insert(20 + 13 * n, bad)
    return csv_bytes(rows)


def contents(session) -> dict[str, list[tuple]]:
    """Every row of the tables an import writes (its audit records), by id, without timestamps."""
    out = {}
    for name in COMPARED:
        table = db.metadata.tables[name]
        columns = [c for c in table.columns if not isinstance(getattr(c.type, "impl", c.type), DateTime)]
        query = select(*columns).order_by(*table.primary_key.columns)
        if name == "audit_log":
            query = query.where(table.c.action == "import")  # a user's records hold token times
        out[name] = [tuple(r) for r in session.execute(query)]
    return out


def run(session, make_user, parallel_bytes: int) -> tuple[dict, dict]:
    user, _ = make_user("admin", username="importer")
    import_batches(session, csv_bytes(PRE), ImportOptions(filename="pre.csv", user_id=user.id,
                                                          parallel_bytes=-1))
    result = import_batches(session, mixed_file(), ImportOptions(
        filename="mixed.csv", user_id=user.id, parallel_bytes=parallel_bytes))
    return result.report(), contents(session)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 16)


@pytest.fixture
def child_pids(monkeypatch, tmp_path):
    """Pids of the processes that parsed (each writes its own to a file)."""
    record = tmp_path / "pids"
    parse = importer.parse_file

    def recording(*args):
        with record.open("a") as f:
            f.write(f"{os.getpid()}\n")
        yield from parse(*args)

    monkeypatch.setattr(importer, "parse_file", recording)
    return lambda: [int(p) for p in record.read_text().split()] if record.exists() else []


def assert_reaped(pids: list[int]) -> None:
    assert multiprocessing.active_children() == []
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # gone, not even a zombie


def test_parallel_and_serial_imports_store_and_report_the_same(db_session, make_user, small_chunks,
                                                               child_pids):
    serial_report, serial = run(db_session, make_user, parallel_bytes=-1)
    assert child_pids() == [os.getpid()] * 2
    clean_database()  # ids start again at 1 (SQLite: emptied tables; PostgreSQL: RESTART IDENTITY)
    parallel_report, parallel = run(db_session, make_user, parallel_bytes=0)
    pids = child_pids()
    assert pids[2] == os.getpid() and pids[3] != os.getpid()  # the pre-import serial, the file forked
    assert_reaped(pids[3:])

    assert parallel_report == serial_report
    assert parallel == serial
    rejected = serial_report["rejected"]
    assert [r["row"] for r in rejected] == sorted(r["row"] for r in rejected)
    reasons = " | ".join(r["reason"] for r in rejected)
    for expected in ("not a date", "unknown category", "unknown region", "result must be", "unknown stage",
                     "in the future", "before the sampling date", "check digit", "passing batch",
                     "failed batch needs", "cells but the header", "NUL", "is required", "longer than",
                     "is not registered", "already recorded with different content", "with different content"):
        assert expected in reasons, expected
    assert serial_report["unchanged"] == 2  # S-1 as stored, G-5 repeated in the file
    assert serial_report["accepted"] == 240 - 1  # L-1 rejected
    assert ("L-3",) in {(b[0],) for b in db_session.execute(text("SELECT sample_no FROM batches"))}


def test_parallel_atomic_import_stores_nothing(db_session, make_user, small_chunks, child_pids):
    user, _ = make_user("admin")
    result = import_batches(db_session, mixed_file(), ImportOptions(
        filename="mixed.csv", user_id=user.id, atomic=True, parallel_bytes=0))
    assert not result.stored and result.accepted == 0 and result.rejected
    assert db_session.scalar(text("SELECT count(*) FROM batches")) == 0
    assert db_session.scalar(text("SELECT count(*) FROM import_runs")) == 0
    assert_reaped(child_pids())


def test_refusal_found_by_the_child_rolls_back_what_was_written(db_session, make_user, small_chunks,
                                                               child_pids):
    user, _ = make_user("admin")
    with pytest.raises(FileRefused, match="more than 100 rows"):
        import_batches(db_session, mixed_file(), ImportOptions(
            filename="mixed.csv", user_id=user.id, max_rows=100, parallel_bytes=0))
    db_session.rollback()
    assert db_session.scalar(text("SELECT count(*) FROM batches")) == 0
    assert db_session.scalar(text("SELECT count(*) FROM enterprises")) == 0
    assert_reaped(child_pids())


def test_child_is_stopped_when_the_import_fails_in_this_process(db_session, make_user, small_chunks,
                                                               child_pids):
    user, _ = make_user("admin")

    def progress(done, _total):
        if done > 40:
            raise KeyboardInterrupt  # anything, even what is not an Exception

    with pytest.raises(KeyboardInterrupt):
        import_batches(db_session, mixed_file(), ImportOptions(
            filename="mixed.csv", user_id=user.id, parallel_bytes=0), progress)
    db_session.rollback()
    assert db_session.scalar(text("SELECT count(*) FROM batches")) == 0
    assert_reaped(child_pids())


def test_worker_job_and_request_imports_use_the_child_and_reap_it(client, admin, db_session, app, runner,
                                                                  monkeypatch, small_chunks, child_pids):
    from tests.test_import import upload

    _, h = admin
    monkeypatch.setitem(app.config, "IMPORT_PARALLEL_BYTES", 0)
    content = mixed_file()
    monkeypatch.setitem(app.config, "IMPORT_ASYNC_BYTES", len(content) - 1)  # a job of `flask worker`
    r = upload(client, h, content, name="mixed.csv")
    assert r.status_code == 202, r.json
    out = runner.invoke(args=["worker", "--once"])
    assert "ran 1 job(s)" in out.output, out.output
    done = client.get(r.json["url"], headers=h).json
    # L-1 rejected; S-1 and S-2 are new in this database
    assert done["status"] == "done" and done["result"]["accepted"] == 240 - 1 + 2
    assert done["progress"] == done["total"]

    monkeypatch.setitem(app.config, "IMPORT_ASYNC_BYTES", len(content) + 1)  # in the request
    again = upload(client, h, content, name="mixed.csv")
    assert again.status_code == 200, again.json
    # L-1's enterprise is registered now; everything else is stored already (G-5 twice)
    assert again.json["accepted"] == 1 and again.json["unchanged"] == 241 + 1
    pids = child_pids()
    assert len(pids) == 2 and os.getpid() not in pids
    assert_reaped(pids)
