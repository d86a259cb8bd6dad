"""Bulk import over the API and the CLI: the row report, idempotence, refusals, atomicity."""
from __future__ import annotations

import io
import json

from openpyxl import Workbook
from sqlalchemy import func, select

from core.jobs import Job
from inspection.models import Batch, Enterprise, ImportRun, SeriesMonth, TestItem
from tests.conftest import OUTSIDE_CODE, VALID_CODE, make_code

HEADER = "sample_no,sampled_on,category,region,result,enterprise_credit_code,enterprise_name,failed_items,fail_reason"
NEW_CODE = make_code("91330212MA2K8L9M0")


def rows_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


GOOD = [
    f"I-1,2025-04-01,food.dairy.liquid_milk,330106,pass,{VALID_CODE},杭州示例乳业有限公司,,",
    f"I-2,2025-04-02,food.dairy.liquid_milk,330106,fail,{VALID_CODE},,菌落总数;大肠菌群,",
    "I-3,2025-04-03,farm.vegetable,330212,fail,,宁波某农贸市场,,拒绝抽样",
    f"I-4,2025-04-04,industrial,330212,pass,{NEW_CODE},宁波新注册电器有限公司,,",
]


def upload(client, headers, content: bytes, name="batches.csv", query=""):
    return client.post(f"/api/batches/import{query}", headers=headers,
                       data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def n(db_session, model=Batch):
    return db_session.scalar(select(func.count()).select_from(model))


def series_total(db_session) -> tuple[int, int]:
    row = db_session.execute(select(SeriesMonth.batches, SeriesMonth.failed).where(
        SeriesMonth.category_code == "*", SeriesMonth.region_code == "330000")).all()
    return sum(r[0] for r in row), sum(r[1] for r in row)


def test_import_stores_rows_enterprises_items_and_aggregate(client, admin, db_session):
    user, h = admin
    r = upload(client, h, rows_csv(*GOOD))
    assert r.status_code == 200, r.json
    assert (r.json["accepted"], r.json["unchanged"], r.json["rejected"]) == (4, 0, [])
    assert n(db_session) == 4
    failed = db_session.scalar(select(Batch).where(Batch.sample_no == "I-2"))
    assert [i.item for i in failed.items] == ["菌落总数", "大肠菌群"] and failed.created_by_id == user.id
    assert failed.import_id == r.json["import_id"]
    market = db_session.scalar(select(Batch).where(Batch.sample_no == "I-3"))
    assert market.enterprise_id is None and market.producer_name == "宁波某农贸市场" and not market.local
    new = db_session.scalar(select(Enterprise).where(Enterprise.credit_code == NEW_CODE))
    assert new.name == "宁波新注册电器有限公司" and new.region_code == "330212"
    assert series_total(db_session) == (4, 2)
    run = db_session.get(ImportRun, r.json["import_id"])
    assert (run.accepted, run.rejected, run.created_by_id) == (4, 0, user.id)


def test_importing_the_same_file_twice_changes_nothing(client, admin, db_session):
    _, h = admin
    upload(client, h, rows_csv(*GOOD))
    again = upload(client, h, rows_csv(*GOOD))
    assert (again.json["accepted"], again.json["unchanged"], again.json["rejected"]) == (0, 4, [])
    assert n(db_session) == 4 and n(db_session, TestItem) == 2 and series_total(db_session) == (4, 2)


def test_changed_row_is_a_conflict_never_an_overwrite(client, admin, db_session):
    _, h = admin
    upload(client, h, rows_csv(*GOOD))
    changed = GOOD[0].replace(",pass,", ",fail,").replace(",,", ",霉菌,", 1)
    r = upload(client, h, rows_csv(changed))
    assert r.json["accepted"] == 0
    assert r.json["rejected"] == [{"row": 2, "column": "sample_no",
                                   "reason": "sample number I-1 is already recorded with different content; amend it instead"}]
    assert db_session.scalar(select(Batch.conclusion).where(Batch.sample_no == "I-1")) == "pass"


def test_repeated_sample_numbers_in_one_file(client, admin, db_session):
    _, h = admin
    other = GOOD[0].replace("2025-04-01", "2025-04-09")
    r = upload(client, h, rows_csv(GOOD[0], GOOD[0], other))
    assert (r.json["accepted"], r.json["unchanged"]) == (1, 1)
    assert r.json["rejected"] == [{"row": 4, "column": "sample_no",
                                   "reason": "sample number I-1 appears in row 2 with different content"}]


def test_every_bad_row_is_reported_by_row_and_column(client, admin, db_session):
    _, h = admin
    bad = [
        f"B-1,2025-13-01,food.dairy,330106,pass,{VALID_CODE},,,",       # bad date
        f"B-2,2025-04-01,food.nope,330106,pass,{VALID_CODE},,,",         # unknown category
        f"B-3,2025-04-01,food.dairy,999999,pass,{VALID_CODE},,,",        # unknown region
        f"B-4,2025-04-01,food.dairy,330106,maybe,{VALID_CODE},,,",       # bad result
        f"B-5,2025-04-01,food.dairy,330106,pass,{VALID_CODE[:-1]}0,,,",  # wrong check digit
        f"B-6,2025-04-01,food.dairy,330106,fail,{VALID_CODE},,,",        # fail without item or reason
        f"B-7,2025-04-01,food.dairy,330106,pass,{VALID_CODE},,霉菌,",     # pass with failing item
        f"B-8,2999-04-01,food.dairy,330106,pass,{VALID_CODE},,,",        # future
        f",2025-04-01,food.dairy,330106,pass,{VALID_CODE},,,",           # no sample number
        f"B-10,2025-04-01,food.dairy,330106,pass,{make_code('91330106MA2B3C4D9')},,,",  # unknown code, no name
        "B-11,2025-04-01,food.dairy,330106,pass,,某乳业公司,,",           # name without code (not farm)
        f"B-12,0202-04-01,food.dairy,330106,pass,{VALID_CODE},,,",       # 2022 mistyped
    ]
    if VALID_CODE.endswith("0"):
        bad[4] = bad[4].replace(f"{VALID_CODE[:-1]}0", f"{VALID_CODE[:-1]}1")
    r = upload(client, h, rows_csv(*bad, GOOD[0]))
    assert r.json["accepted"] == 1
    got = {(e["row"], e["column"]) for e in r.json["rejected"]}
    assert got == {(2, "sampled_on"), (3, "category"), (4, "region"), (5, "result"),
                   (6, "enterprise_credit_code"), (7, "result"), (8, "result"), (9, "sampled_on"),
                   (10, "sample_no"), (11, "enterprise_name"), (12, "enterprise_credit_code"), (13, "sampled_on")}
    reasons = {e["row"]: e["reason"] for e in r.json["rejected"]}
    assert "check digit" in reasons[6] and "in the future" in reasons[9]
    assert reasons[13] == "sampling date 0202-04-01 is before 2000-01-01: is the year mistyped?"
    assert n(db_session) == 1


def test_atomic_import_stores_nothing_when_a_row_is_rejected(client, admin, db_session):
    _, h = admin
    bad = f"B-1,2025-04-01,food.nope,330106,pass,{VALID_CODE},,,"
    r = upload(client, h, rows_csv(*GOOD, bad), query="?atomic=true")
    assert r.status_code == 200
    assert r.json["accepted"] == 0 and r.json["stored"] is False and len(r.json["rejected"]) == 1
    assert n(db_session) == 0 and n(db_session, Enterprise) == 0 and series_total(db_session) == (0, 0)


def test_files_refused_as_a_whole(client, admin, db_session, app):
    _, h = admin
    cases = [
        (rows_csv(*GOOD, header=HEADER + ",colour"), "unknown column(s): colour"),
        (rows_csv("I-1,2025-04-01,food,330106", header="sample_no,sampled_on,category,region"), "missing required column(s): result"),
        (rows_csv(*GOOD, header=HEADER.replace("fail_reason", "region")), "given twice"),
        (rows_csv(*GOOD).decode().encode("utf-16"), "UTF-16"),
        (b"\xff\xfe\xfa\x80\x81garbage\x00\x00", "UTF-16"),
        (b"sample_no,\xff\xffbroken\n", "neither UTF-8 nor GB18030"),
        (b"", "empty"),
        (b"PK\x03\x04 not really a workbook", "cannot be read"),
    ]
    for content, words in cases:
        r = upload(client, h, content)
        assert r.status_code == 422, (words, r.json)
        assert words in r.json["errors"]["file"][0], (words, r.json)
    assert n(db_session) == 0 and n(db_session, ImportRun) == 0
    assert upload(client, h, b"").json["message"]


def test_oversize_file_is_refused(client, admin, db_session, app):
    _, h = admin
    limit = app.config["IMPORT_MAX_BYTES"]
    app.config["IMPORT_MAX_BYTES"] = 100
    try:
        r = upload(client, h, rows_csv(*GOOD))
    finally:
        app.config["IMPORT_MAX_BYTES"] = limit
    assert r.status_code == 413 and "limit" in r.json["message"]
    assert n(db_session) == 0


def test_gb18030_and_bom_files_are_read(client, admin, db_session):
    _, h = admin
    assert upload(client, h, rows_csv(GOOD[0]).decode().encode("gb18030")).json["accepted"] == 1
    assert upload(client, h, b"\xef\xbb\xbf" + rows_csv(GOOD[1])).json["accepted"] == 1
    names = {e.name for e in db_session.scalars(select(Enterprise))}
    assert names == {"杭州示例乳业有限公司"}


def test_columns_in_any_order_chinese_words_and_blank_lines(client, admin, db_session):
    _, h = admin
    content = ("region,result,category,sampled_on,sample_no,stage\n"
               "330106,合格,food.dairy,2025-05-01,C-1,流通\n\n"
               "330106,不合格,farm.vegetable,2025-05-02,C-2,生产\n").encode()
    r = upload(client, h, content)
    assert r.json["accepted"] == 1
    assert r.json["rejected"] == [{"row": 4, "column": "result",
                                   "reason": "a failed batch needs a failing test item or a fail_reason"}]
    stored = db_session.scalar(select(Batch).where(Batch.sample_no == "C-1"))
    assert stored.conclusion == "pass" and stored.stage == "distribution"


def test_xlsx_upload(client, admin, db_session):
    _, h = admin
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for line in GOOD:
        sheet.append(line.split(","))
    sheet.append(["X-9", __import__("datetime").date(2025, 4, 5), "food.dairy", 330106, "pass"])
    buf = io.BytesIO()
    book.save(buf)
    r = upload(client, h, buf.getvalue(), name="batches.xlsx")
    assert r.status_code == 200 and r.json["accepted"] == 5, r.json
    assert db_session.scalar(select(Batch.sampled_on).where(Batch.sample_no == "X-9")).isoformat() == "2025-04-05"


def test_large_upload_runs_as_a_worker_job(client, admin, db_session, app, runner):
    user, h = admin
    rows = [f"J-{i},2025-06-{1 + i % 28:02d},food.dairy,330106,pass,{VALID_CODE},杭州示例乳业有限公司,,"
            for i in range(app.config["IMPORT_ASYNC_BYTES"] // 60 + 10)]
    content = rows_csv(*rows)
    assert len(content) > app.config["IMPORT_ASYNC_BYTES"]
    r = upload(client, h, content)
    assert r.status_code == 202, r.json
    assert n(db_session) == 0
    status = client.get(r.json["url"], headers=h).json
    assert status["status"] == "queued"
    out = runner.invoke(args=["worker", "--once"])
    assert "ran 1 job(s)" in out.output, out.output
    done = client.get(r.json["url"], headers=h).json
    assert done["status"] == "done" and done["result"]["accepted"] == len(rows)
    assert done["progress"] >= 0 and done["finished_at"]
    assert n(db_session) == len(rows)
    assert db_session.get(Job, r.json["job_id"]).payload is None
    assert client.get(r.json["url"], headers={"Authorization": h["Authorization"] + "x"}).status_code == 401


def test_cli_import_exit_codes(runner, admin, db_session, tmp_path):
    user, _ = admin
    good = tmp_path / "good.csv"
    good.write_bytes(rows_csv(*GOOD))
    # Any case, as at sign-in: the account is named once, whatever its spelling
    result = runner.invoke(args=["inspection", "import", str(good), "--user", user.username.upper()])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["accepted"] == 4
    partly = tmp_path / "partly.csv"
    partly.write_bytes(rows_csv(GOOD[0].replace("I-1", "I-9"), "Z-1,2025-04-01,food.nope,330106,pass,,,,"))
    result = runner.invoke(args=["inspection", "import", str(partly), "--user", user.username])
    assert result.exit_code == 1 and '"accepted": 1' in result.stdout
    refused = tmp_path / "refused.csv"
    refused.write_bytes(rows_csv(*GOOD, header=HEADER + ",colour"))
    result = runner.invoke(args=["inspection", "import", str(refused), "--user", user.username])
    assert result.exit_code == 2 and "unknown column" in result.stdout
    atomic = tmp_path / "atomic.csv"
    atomic.write_bytes(rows_csv(GOOD[0].replace("I-1", "I-10"), "Z-2,2025-04-01,food.nope,330106,pass,,,,"))
    result = runner.invoke(args=["inspection", "import", str(atomic), "--user", user.username, "--atomic"])
    assert result.exit_code == 1
    assert n(db_session) == 5
    result = runner.invoke(args=["inspection", "import", str(good), "--user", "nobody"])
    assert result.exit_code == 2


def test_cli_import_runs_with_the_users_rights_and_region(runner, make_user, db_session, tmp_path):
    # `--user` once only named who the rows were recorded for: an agency account could record
    # batches and an inspector of Xihu those of Ningbo, which the API refuses them.
    good = tmp_path / "good.csv"
    good.write_bytes(rows_csv(*GOOD))
    agency, _ = make_user("agency", region="330100")
    result = runner.invoke(args=["inspection", "import", str(good), "--user", agency.username])
    assert result.exit_code == 2 and "may not record" in result.output
    disabled, _ = make_user("inspector", region="330100")
    disabled.active = False
    db_session.commit()
    result = runner.invoke(args=["inspection", "import", str(good), "--user", disabled.username])
    assert result.exit_code == 2 and n(db_session) == 0
    inspector, _ = make_user("inspector", region="330106")
    result = runner.invoke(args=["inspection", "import", str(good), "--user", inspector.username])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["accepted"] == 2 and {(r["row"], r["column"]) for r in report["rejected"]} == {
        (4, "region"), (5, "region")}
    assert set(db_session.scalars(select(Batch.sample_no))) == {"I-1", "I-2"}


def test_outside_producer_counts_as_not_local(client, admin, db_session):
    _, h = admin
    line = f"O-1,2025-04-01,food.dairy,330106,pass,{OUTSIDE_CODE},南京某乳业有限公司,,"
    assert upload(client, h, rows_csv(line)).json["accepted"] == 1
    assert db_session.scalar(select(Batch.local).where(Batch.sample_no == "O-1")) is False


def test_nul_characters_reject_the_row_not_the_file(client, admin, db_session):
    _, h = admin
    # A NUL at the start of a file marks it as binary (refused); one deep inside is one bad row.
    head = [GOOD[0].replace("I-1", f"N-{i}") for i in range(60)]
    content = rows_csv(*head, GOOD[1].replace("I-2", "I-\x002"))
    r = upload(client, h, content)
    assert r.status_code == 200, r.json
    assert r.json["accepted"] == 60
    assert r.json["rejected"] == [{"row": 62, "column": "sample_no", "reason": "contains a NUL character"}]


def test_large_import_takes_the_bulk_path_and_keeps_the_aggregate_exact(client, admin, db_session):
    """Enough rows for the set-based aggregate upsert (over a thousand series keys), on top of
    series rows that already exist, and the driver-level inserts store what the ORM would."""
    import random
    from datetime import date, timedelta

    from core.database import FEW_ROWS
    from tests.test_aggregate_property import CATEGORIES, REGIONS, expected_aggregate, stored_aggregate

    user, h = admin
    assert upload(client, h, rows_csv(*GOOD)).json["accepted"] == 4
    rng = random.Random(7)
    lines = []
    for i in range(700):
        day = date(rng.choice((2023, 2024)), rng.randint(1, 12), rng.randint(1, 28))
        code, name = rng.choice([(VALID_CODE, ""), (OUTSIDE_CODE, "南京某乳业有限公司"), ("", "")])
        category = rng.choice(CATEGORIES) if code else "farm.vegetable"
        result, items = ("fail", "铅(以Pb计);菌落总数") if i % 7 == 0 else ("pass", "")
        lines.append(f"B-{i},{day},{category},{rng.choice(REGIONS)},{result},{code},{name},{items},")
    r = upload(client, h, rows_csv(*lines))
    assert (r.json["accepted"], r.json["rejected"]) == (700, []), r.json
    assert sum(key[4] == "n" for key in stored_aggregate(db_session)) > FEW_ROWS + 100
    assert stored_aggregate(db_session) == expected_aggregate(db_session.scalars(select(Batch)).all())

    sample_no, sampled_on, category, region, _, code = lines[7].split(",")[:6]
    b = db_session.scalar(select(Batch).where(Batch.sample_no == sample_no))
    assert (b.sampled_on, b.category_code, b.region_code, b.conclusion, b.version, b.import_id) == (
        date.fromisoformat(sampled_on), category, region, "fail", 1, r.json["import_id"])
    assert b.local is (code == VALID_CODE) and (b.enterprise.credit_code if b.enterprise else "") == code
    assert b.created_at.utcoffset() == timedelta(0) and b.created_by_id == user.id and b.reported_on is None
    assert [(i.item, i.verdict) for i in b.items] == [("铅(以Pb计)", "fail"), ("菌落总数", "fail")]

    again = upload(client, h, rows_csv(*lines))
    assert (again.json["accepted"], again.json["unchanged"]) == (0, 700)
    db_session.expire_all()
    assert stored_aggregate(db_session) == expected_aggregate(db_session.scalars(select(Batch)).all())


def test_a_queued_import_runs_with_its_owners_rights_as_they_are_when_it_runs(app, client, admin, make_user,
                                                                               db_session):
    from core.jobs import run_job

    _, admin_headers = admin
    many = [f"Q{i:05d},2025-04-01,food.dairy.liquid_milk,330106,pass,,,," for i in range(2500)]
    content = rows_csv(*many)
    assert len(content) > app.config["IMPORT_ASYNC_BYTES"]

    def queue(headers) -> int:
        response = client.post("/api/batches/import", headers=headers, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(content), "big.csv")})
        assert response.status_code == 202, response.json
        return int(response.headers["Location"].rsplit("/", 1)[1])

    def run(job_id: int) -> dict:
        db_session.expire_all()  # the worker's session sees the account as it is now
        run_job(db_session, db_session.get(Job, job_id))
        db_session.expire_all()
        return db_session.get(Job, job_id).result

    disabled, headers = make_user("inspector", region="330106")
    job = queue(headers)
    assert client.patch(f"/api/users/{disabled.id}", json={"active": False}, headers=admin_headers).status_code == 200
    assert run(job) == {"refused": "the account that queued this file may no longer record batches"}

    moved, headers = make_user("inspector", region="330106")
    job = queue(headers)
    assert client.patch(f"/api/users/{moved.id}", json={"region": "330212"},  # now in Ningbo
                        headers=admin_headers).status_code == 200
    report = run(job)
    assert report["accepted"] == 0 and len(report["rejected"]) == 2500
    assert report["rejected"][0]["reason"] == "region 330106 is outside your region 330212"
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0


def test_the_rejected_count_is_rows_not_problems(client, admin, db_session):
    """Four bad rows, the first with two problems: four rows rejected, five problems listed."""
    _, h = admin
    bad = [
        f"R-1,2025-13-01,food.nope,330106,pass,{VALID_CODE},,,",  # bad date and unknown category
        f"R-2,2025-04-01,food.nope,330106,pass,{VALID_CODE},,,",
        f"R-3,2025-04-01,food.dairy,999999,pass,{VALID_CODE},,,",
        f"R-4,2025-04-01,food.dairy,330106,maybe,{VALID_CODE},,,",
    ]
    r = upload(client, h, rows_csv(*bad))
    assert (r.json["accepted"], r.json["unchanged"], r.json["rejected_rows"]) == (0, 0, 4), r.json
    assert [e["row"] for e in r.json["rejected"]] == [2, 2, 3, 4, 5]
    run = db_session.get(ImportRun, r.json["import_id"])
    assert run.rejected == 4 and run.report["rejected_rows"] == 4
    atomic = upload(client, h, rows_csv(*bad, GOOD[0]), query="?atomic=true")
    assert (atomic.json["rejected_rows"], len(atomic.json["rejected"]), atomic.json["stored"]) == (4, 5, False)


def test_every_problem_of_a_row_is_reported_in_one_pass(client, admin, db_session):
    """The reviewer's row: a day-first date, a category name for its code and 不合格 without a
    reason. Each is reported, once, and a column the parser faulted is not faulted again."""
    _, h = admin
    row = f"P-1,25/11/2025,饼干,330106,不合格,{VALID_CODE},,,"
    r = upload(client, h, rows_csv(row, GOOD[0]))
    assert r.json["accepted"] == 1 and r.json["rejected_rows"] == 1
    assert [(e["column"], e["reason"].split(";")[0].split(":")[0]) for e in r.json["rejected"]] == [
        ("category", "unknown category code '饼干'"),
        ("result", "a failed batch needs a failing test item or a fail_reason"),
        ("sampled_on", "'25/11/2025' is not a date in YYYY-MM-DD form")]
    # Missing required cells and a bad result: the parser's words only, not the rules' echo of them.
    r = upload(client, h, rows_csv(f",,food.dairy,330106,maybe,{VALID_CODE},,,"))
    assert [(e["column"], e["reason"]) for e in r.json["rejected"]] == [
        ("result", "result must be 'pass' or 'fail', got 'maybe'"),
        ("sample_no", "sample_no is required"), ("sampled_on", "sampled_on is required")]


def test_a_bad_row_outside_the_importers_region_says_so_too(client, make_user, db_session):
    _, h = make_user("inspector", region="330100")
    r = upload(client, h, rows_csv(f"S-1,01/04/2025,food.dairy,330203,pass,{VALID_CODE},,,",
                                   f"S-2,01/04/2025,food.dairy,999999,pass,{VALID_CODE},,,"))
    assert [(e["row"], e["column"]) for e in r.json["rejected"]] == [
        (2, "region"), (2, "sampled_on"), (3, "region"), (3, "sampled_on")]
    assert r.json["rejected"][0]["reason"] == "region 330203 is outside your region 330100"
    assert r.json["rejected"][2]["reason"].startswith("unknown region code '999999'")


CHINESE_HEADER = "抽样地区,检验结论,产品类别,抽样日期,抽样单编号,统一社会信用代码,生产企业名称,不合格项目,抽样环节"


def test_chinese_headers_are_exact_aliases_of_the_column_names(client, admin, db_session):
    _, h = admin
    r = upload(client, h, rows_csv(f"330106,合格,food.dairy,2025-05-01,Z-1,{VALID_CODE},杭州示例乳业有限公司,,流通",
                                   f"330106,不合格,food.dairy,2025-05-02,Z-2,{VALID_CODE},,霉菌,生产",
                                   header=CHINESE_HEADER))
    assert (r.json["accepted"], r.json["rejected"]) == (2, []), r.json
    stored = db_session.scalar(select(Batch).where(Batch.sample_no == "Z-2"))
    assert (stored.conclusion, stored.stage, [i.item for i in stored.items]) == ("fail", "production", ["霉菌"])
    # Only the table's headers: a near miss still refuses the file, naming both spellings.
    near = upload(client, h, rows_csv("Z-3,2025-05-01,food.dairy,330106,pass",
                                      header="抽样单号,抽样日期,产品类别,抽样地区,检验结论"))
    assert near.status_code == 422
    message = near.json["errors"]["file"][0]
    assert message.startswith("unknown column(s): 抽样单号; allowed: sample_no, sampled_on, ")
    assert message.endswith("or in Chinese: 抽样单编号, 抽样日期, 产品类别, 抽样地区, 检验结论, 报告日期, 统一社会信用代码, "
                            "生产企业名称, 产品名称, 商标, 规格型号, 生产批号, 生产日期, 抽样环节, 抽样单位, 检验机构, "
                            "报告编号, 不合格项目, 不合格原因")
    twice = upload(client, h, rows_csv("Z-4,Z-4,2025-05-01,food.dairy,330106,pass",
                                       header="sample_no,抽样单编号,sampled_on,category,region,result"))
    assert twice.status_code == 422 and twice.json["errors"]["file"][0] == "column(s) given twice: sample_no"
    assert n(db_session) == 2


def test_the_alias_table_is_the_one_in_the_readme():
    from pathlib import Path

    from inspection.imports.columns import FILE_COLUMNS, HEADER_ALIASES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert [c for c in FILE_COLUMNS if f"| `{c.name}` | {c.header_zh} |" not in readme] == []
    assert len(HEADER_ALIASES) == len(FILE_COLUMNS)  # one header per column, none shared


def test_an_unknown_code_says_where_the_codes_are_and_which_code_a_name_is(client, admin, db_session):
    _, h = admin
    r = upload(client, h, rows_csv(f"K-1,2025-04-01,饼干,西湖区,pass,{VALID_CODE},,,",
                                   f"K-2,2025-04-01,Biscuits,330106,pass,{VALID_CODE},,,",
                                   f"K-3,2025-04-01,糕点,330106,pass,{VALID_CODE},,,",  # two categories have it
                                   f"K-4,2025-04-01,food.nope,330199,pass,{VALID_CODE},,,"))
    assert {(e["row"], e["column"]): e["reason"] for e in r.json["rejected"]} == {
        (2, "category"): "unknown category code '饼干': did you mean food.biscuit? ('饼干' is that category's name)",
        (2, "region"): "unknown region code '西湖区': did you mean 330106? ('西湖区' is that region's name)",
        (3, "category"): "unknown category code 'Biscuits': did you mean food.biscuit? "
                         "('Biscuits' is that category's name)",
        (4, "category"): "unknown category code '糕点' (the codes are listed on the import page "
                         "and by GET /api/categories)",
        (5, "category"): "unknown category code 'food.nope' (the codes are listed on the import page "
                         "and by GET /api/categories)",
        (5, "region"): "unknown region code '330199' (the codes are listed on the import page "
                       "and by GET /api/regions)"}
    assert n(db_session) == 0  # a name is never taken for its code
    # The API's batch rules are the same.
    from tests.conftest import batch_payload
    body = client.post("/api/batches", json=batch_payload(category="饼干"), headers=h)
    assert body.status_code == 422 and "did you mean food.biscuit?" in body.json["errors"]["category"][0]
