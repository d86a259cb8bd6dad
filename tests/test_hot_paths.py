"""The hot API paths take shortcuts (tuned for bench/web_load.py); what they answer must not change.

Lists answer without marshmallow's per-value machinery: the JSON stays the documented schema's,
to the key and the value. A recorded batch is answered from the objects just written, not read
back. The caller is resolved by one query into a plain snapshot, which follows every change.
Each hot request sends the fewest statements.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from marshmallow import Schema, fields, post_dump
from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, event, func, select
from sqlalchemy.events import ConnectionEvents

from core.database import READ_ONLY, WriteInReadOnlyRequest
from core.extensions import db
from core.fast_dump import Dumper, json_response
from core.models import UTCDateTime
from inspection.models import SeriesMonth
from inspection.schemas import PassRateSchema
from inspection.services.stats import RateQuery, pass_rates
from tests.conftest import batch_payload
from warning.models import Alert, Scan
from warning.schemas import AlertSchema


class Plain(Schema):
    id = fields.Integer()
    name = fields.String(attribute="label")
    share = fields.Float(allow_none=True)
    flag = fields.Boolean(allow_none=True)
    at = fields.DateTime(allow_none=True)
    renamed = fields.Integer(data_key="count")


AT = datetime(2025, 3, 10, 8, 30, tzinfo=timezone.utc)
VALUES = [
    {"id": 1, "label": "纯牛奶", "share": 0.5, "flag": True, "at": AT, "renamed": 3},
    # values the fields convert: an int in a Float, a bool in an Integer, a number in a String
    {"id": True, "label": 42, "share": 1, "flag": False, "at": AT + timedelta(days=1), "renamed": 7},
    {"id": 3, "label": None, "share": None, "flag": None, "at": None, "renamed": 0},
]


def test_the_dumper_gives_the_schemas_output_for_dicts_and_objects():
    expected = Plain(many=True).dump(VALUES)

    assert Dumper(Plain).many(VALUES) == expected
    assert Dumper(Plain()).many([SimpleNamespace(**v) for v in VALUES]) == expected
    assert expected[1]["id"] == 1 and expected[1]["share"] == 1.0 and expected[1]["name"] == "42"


def test_the_fast_json_response_is_flasks_to_the_byte(app):
    rows = [{"region": "330100", "name": "杭州市", "pass_rate": 0.9754098360655737, "gap": -0.0123,
             "batches": 122, "floor": None, "meets_floor": True, "at": AT.isoformat()},
            {"region": "330200", "pass_rate": 1.0, "batches": 0, "meets_floor": False}, [], {}]
    with app.test_request_context("/api/stats/pass-rates"):
        fast, flask = json_response(rows), app.json.response(rows)
    assert fast.get_data() == flask.get_data()
    assert (fast.status_code, fast.mimetype) == (flask.status_code, flask.mimetype) == (200, "application/json")


def test_the_row_dumper_gives_the_schemas_output_for_result_rows(db_session):
    table = Table("dumped", MetaData(), Column("renamed", Integer), Column("id", Integer), Column("label", String),
                  Column("share", Float), Column("flag", Boolean), Column("at", UTCDateTime()))
    rows = [(3, 1, "纯牛奶", 0.5, True, AT), (0, 3, None, None, None, None), (7, 2, "", 1.0, False, AT)]
    as_dicts = [dict(zip([c.key for c in table.columns], row)) for row in rows]

    dumped = Dumper(Plain).for_columns(list(table.columns)).many(rows)

    assert dumped == Plain(many=True).dump(as_dicts)
    assert dumped[0]["at"] == AT.isoformat() and dumped[0]["count"] == 3
    with pytest.raises(TypeError):  # a column short of the schema's attributes
        Dumper(Plain).for_columns(list(table.columns)[1:])


def test_timestamps_in_a_row_dumpers_response_are_written_as_the_field_writes_them(app):
    """A list response leaves datetimes to orjson where it writes them as `isoformat` does (UTC
    offsets of whole minutes, or none) and converts the others itself: the bytes are the same."""
    class NoOffset(tzinfo):
        def utcoffset(self, dt):
            return None

    shanghai, st_johns = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/St_Johns")
    stamps = [AT, AT.replace(microsecond=123456), AT.astimezone(ZoneInfo("Etc/UTC")), AT.astimezone(shanghai),
              AT.astimezone(st_johns), AT.replace(tzinfo=NoOffset()),
              AT.replace(tzinfo=None), datetime(1899, 5, 1, 12, 0, 0, 7, tzinfo=shanghai),  # +08:05:43
              datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=1))),
              datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))]
    table = Table("stamped", MetaData(), Column("renamed", Integer), Column("id", Integer), Column("label", String),
                  Column("share", Float), Column("flag", Boolean), Column("at", UTCDateTime()))
    rows = [(i, i, "x", None, None, stamp) for i, stamp in enumerate(stamps)] + [(9, 9, None, None, None, None)]
    dumper = Dumper(Plain).for_columns(list(table.columns))
    with app.test_request_context("/api/alerts"):
        fast, slow = dumper.response(rows), json_response(dumper.many(rows))
    assert fast.get_data() == slow.get_data()
    assert [r["at"] for r in fast.json] == [s.isoformat() for s in stamps] + [None]
    assert fast.json[7]["at"].endswith("+08:05:43") and fast.json[5]["at"] == "2025-03-10T08:30:00"


def test_the_dumper_refuses_what_it_cannot_reproduce():
    class WithNested(Schema):
        inner = fields.Nested(Plain)

    class WithHook(Schema):
        id = fields.Integer()

        @post_dump
        def _touch(self, data, **kwargs):
            return data

    class WithFunction(Schema):
        roles = fields.Function(lambda u: sorted(u.roles))

    for schema in (WithNested, WithHook, WithFunction):
        with pytest.raises(TypeError):
            Dumper(schema)


def test_the_alert_list_is_the_schemas_dump(client, admin, db_session):
    _, h = admin
    scan = Scan(as_of="2025-03", status="done", model_version="t", settings={}, series_assessed=0,
                alerts_raised=3, alerts_escalated=0, alerts_resolved=0)
    db_session.add(scan)
    db_session.flush()
    for i, region in enumerate(("330106", "330212", "330782")):
        db_session.add(Alert(category_code="food.dairy.liquid_milk", region_code=region, level="yellow",
                             status="open" if i else "dismissed", opened_scan_id=scan.id, last_scan_id=scan.id,
                             probability=0.9 + i / 100, dismissed_until=None if i else AT))
    db_session.commit()

    listed = client.get("/api/alerts?limit=50", headers=h)

    assert listed.status_code == 200
    alerts = db_session.scalars(select(Alert).order_by(Alert.updated_at.desc(), Alert.id.desc())).all()
    assert listed.json == AlertSchema(many=True).dump(alerts)
    assert len(listed.json) == 3 and {a["dismissed_until"] is None for a in listed.json} == {True, False}


def test_every_alert_filter_selects_what_it_says(client, admin, make_user, db_session):
    _, h = admin
    scan = Scan(as_of="2025-03", status="done", model_version="t", settings={}, series_assessed=0,
                alerts_raised=6, alerts_escalated=0, alerts_resolved=0)
    db_session.add(scan)
    db_session.flush()
    rows = [("food.dairy.liquid_milk", "330106", "yellow", "open"), ("food.dairy", "330212", "orange", "open"),
            ("food.catering", "330782", "red", "acknowledged"), ("farm.vegetable.leafy", "330106", "red", "open"),
            ("food.dairy.liquid_milk", "330302", "yellow", "dismissed"), ("industrial.electrical", "330212", "orange",
                                                                          "escalated")]
    for category, region, level, status in rows:
        db_session.add(Alert(category_code=category, region_code=region, level=level, status=status,
                             opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.9))
    db_session.commit()
    _, ningbo = make_user("supervisor", region="330200")

    def listed(query: str, headers=h) -> list[tuple]:
        answer = client.get(f"/api/alerts?{query}", headers=headers)
        assert answer.status_code == 200, answer.json
        return sorted((a["category"], a["region"], a["level"], a["status"]) for a in answer.json)

    assert listed("level=red") == sorted(r for r in rows if r[2] == "red")
    assert listed("status=open") == sorted(r for r in rows if r[3] == "open")
    assert listed("category=food.dairy") == sorted(r for r in rows if r[0].startswith("food.dairy"))
    assert listed("region=330100") == sorted(r for r in rows if r[1].startswith("3301"))
    assert listed("level=red&status=open&category=farm&region=330106") == [rows[3]]
    assert listed("", ningbo) == sorted(r for r in rows if r[1].startswith("3302"))
    assert listed("region=330212&level=orange", ningbo) == sorted(r for r in rows if r[1] == "330212")
    assert listed("region=330106", ningbo) == []  # out of the caller's scope
    for query, field in (("category=nonexistent", "category"), ("region=999999", "region")):
        refused = client.get(f"/api/alerts?{query}", headers=h)  # not an empty list: "no alerts there"
        assert refused.status_code == 422 and refused.json["errors"][field] == [
            f"unknown {field} code '{query.split('=')[1]}'"], refused.json
    assert len(listed("limit=2&offset=0")) == 2 and len(listed("limit=50&offset=4")) == 2


def test_alerts_listed_by_severity_put_the_highest_level_and_likeliest_first(client, admin, db_session):
    _, h = admin
    scan = Scan(as_of="2025-03", status="done", model_version="t", settings={}, series_assessed=0,
                alerts_raised=5, alerts_escalated=0, alerts_resolved=0)
    db_session.add(scan)
    db_session.flush()
    made = [("blue", 0.99), ("red", 0.95), ("yellow", 0.9), ("red", 1.0), ("orange", 0.97)]  # in update order
    for i, (level, probability) in enumerate(made):
        db_session.add(Alert(category_code="food.dairy.liquid_milk", region_code=("330106", "330212", "330782",
                                                                                   "330302", "330110")[i],
                             level=level, status="open", opened_scan_id=scan.id, last_scan_id=scan.id,
                             probability=probability, updated_at=AT + timedelta(minutes=i)))
    db_session.commit()

    def order(query: str) -> list[tuple]:
        answer = client.get(f"/api/alerts?{query}", headers=h)
        assert answer.status_code == 200, answer.json
        return [(a["level"], a["probability"]) for a in answer.json]

    assert order("sort=-severity") == [("red", 1.0), ("red", 0.95), ("orange", 0.97), ("yellow", 0.9), ("blue", 0.99)]
    assert order("") == order("sort=-updated_at") == list(reversed(made))  # the latest changed first
    assert order("sort=-severity&limit=2&offset=2") == [("orange", 0.97), ("yellow", 0.9)]
    assert client.get("/api/alerts?sort=level", headers=h).status_code == 422


def test_pass_rates_are_the_schemas_dump(app, client, admin, db_session):
    _, h = admin
    for region, conclusion in (("330106", "pass"), ("330106", "fail"), ("330212", "pass")):
        assert client.post("/api/batches", json=batch_payload(region=region, conclusion=conclusion,
                                                              fail_reason="蛋白质不合格" if conclusion == "fail" else None),
                           headers=h).status_code == 201
    query = "region=330000&breakdown=region&from=2025-01&to=2025-04"

    answered = client.get(f"/api/stats/pass-rates?{query}", headers=h)

    assert answered.status_code == 200
    rows = pass_rates(db_session, RateQuery(region="330000", breakdown="region", from_month="2025-01",
                                            to_month="2025-04"))
    assert answered.json == PassRateSchema(many=True).dump(rows)
    assert all(list(r) == sorted(PassRateSchema().fields) for r in rows)  # written without sorting
    assert answered.get_data() == app.json.response(rows).get_data()  # as Flask writes them, sorted
    assert {r["pass_rate"] for r in answered.json} >= {None, 1.0}  # empty months and full ones


def test_a_recorded_batch_answers_what_a_later_read_returns(client, admin):
    _, h = admin

    created = client.post("/api/batches", json=batch_payload(), headers=h)

    assert created.status_code == 201
    read = client.get(created.headers["Location"], headers=h)
    assert created.json == read.json and created.headers["ETag"] == read.headers["ETag"]
    assert created.json["items"][0]["item"] == "蛋白质" and created.json["enterprise"] is not None


def test_the_caller_snapshot_follows_role_region_and_token_changes_at_once(client, admin, make_user):
    _, admin_headers = admin
    user, h = make_user("inspector", "supervisor", region="330106")
    me = client.get("/api/me", headers=h).json
    assert (me["id"], me["roles"], me["region"], me["active"]) == (user.id, ["inspector", "supervisor"],
                                                                     "330106", True)

    client.patch(f"/api/users/{user.id}", json={"roles": ["agency"], "region": "330100"}, headers=admin_headers)
    assert client.get("/api/me", headers=h).json["roles"] == ["agency"]
    assert client.get("/api/me", headers=h).json["region"] == "330100"
    assert client.post("/api/batches", json=batch_payload(), headers=h).status_code == 403

    client.delete(f"/api/users/{user.id}/tokens", headers=admin_headers)
    assert client.get("/api/me", headers=h).status_code == 401


@pytest.fixture
def statements(app):
    """The statements sent through SQLAlchemy while a test runs (the aggregate upsert of a write
    goes to the driver directly and is not among them)."""
    sent: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_hot_requests_send_the_fewest_statements(client, admin, statements, db_session):
    _, h = admin
    assert client.post("/api/batches", json=batch_payload(), headers=h).status_code == 201  # registers the enterprise
    reads = {"stats": "/api/stats/pass-rates?region=330000&breakdown=region&from=2025-01&to=2025-12",
             "alerts": "/api/alerts?limit=50"}

    for name, url in reads.items():
        statements.clear()
        assert client.get(url, headers=h).status_code == 200
        # the caller with the reference fingerprint, then the list itself
        assert statements == ["SELECT", "SELECT"], name

    before = db_session.scalar(select(func.sum(SeriesMonth.batches)).where(SeriesMonth.category_code == "*"))
    statements.clear()
    assert client.post("/api/batches", json=batch_payload(), headers=h).status_code == 201
    # the caller, the enterprise, the batch, its item, the audit record (the sample number's
    # uniqueness is the index's to check)
    assert statements == ["SELECT", "SELECT", "INSERT", "INSERT", "INSERT"]
    db_session.rollback()  # a new snapshot
    after = db_session.scalar(select(func.sum(SeriesMonth.batches)).where(SeriesMonth.category_code == "*"))
    assert after - before == 3  # the aggregate upsert, outside the count: * x (county, city, province)


def test_a_read_only_request_cannot_write(app, db_session):
    """Refused as the dialect executes (one statement, many, an ORM flush), never sent; reads go on.
    No connection event is on the engine: each would send every statement through SQLAlchemy's
    event path."""
    values = dict(as_of="2025-03", status="done", model_version="t", settings={}, series_assessed=0,
                  alerts_raised=0, alerts_escalated=0, alerts_resolved=0)
    before = db_session.scalar(select(func.count()).select_from(Scan))
    db_session.rollback()
    conn = db_session.connection(execution_options=READ_ONLY)
    with pytest.raises(WriteInReadOnlyRequest):
        conn.execute(Scan.__table__.insert().values(**values))
    with pytest.raises(WriteInReadOnlyRequest):
        conn.execute(Scan.__table__.insert(), [values, {**values, "as_of": "2025-04"}])
    with pytest.raises(WriteInReadOnlyRequest):
        conn.execute(Scan.__table__.update().values(status="failed"))
    assert conn.execute(select(func.count()).select_from(Scan)).scalar() == before
    db_session.add(Scan(**values))
    with pytest.raises(WriteInReadOnlyRequest):
        db_session.flush()
    db_session.rollback()
    engine = db_session.get_bind()
    assert not [name for name in dir(ConnectionEvents) if not name.startswith("_")
                and name != "dispatch" and getattr(engine.dispatch, name)]


def test_the_statistics_totals_are_planned_for_their_values_each_time(app, db_session):
    """psycopg prepares a statement a connection has run five times; PostgreSQL's generic plan
    for the totals filtered the asked regions out of every region's rows. They are never
    prepared, so each run is planned for its own lists and months."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's")
    conn = db_session.connection()
    query = RateQuery(region="330000", breakdown="region", from_month="2025-01", to_month="2025-12")
    for _ in range(8):
        pass_rates(db_session, query)
    prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert not [s for s in prepared if "series_months" in s]
    # the control: an ordinary statement run as often is prepared on the same connection
    for _ in range(8):
        conn.execute(select(func.count()).select_from(SeriesMonth))
    prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert [s for s in prepared if "series_months" in s]


def test_timestamps_read_back_timezone_aware_and_equal(db_session):
    """UTCDateTime leaves psycopg's `timestamp with time zone` values as the driver gives them
    (aware) and makes SQLite's naive ones UTC: either way what was written comes back, aware."""
    written = datetime(2025, 3, 10, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    scan = Scan(as_of="2025-03", started_at=written, finished_at=None, model_version="test")
    db_session.add(scan)
    db_session.commit()
    db_session.expire_all()

    read = db_session.get(Scan, scan.id).started_at
    row = db_session.execute(select(Scan.started_at, Scan.finished_at).where(Scan.id == scan.id)).one()

    assert read == written == row.started_at and row.finished_at is None
    assert read.tzinfo is not None and row.started_at.tzinfo is not None


def test_a_server_in_utc_under_another_name_is_read_in_fixed_utc(db_session):
    """A server whose zone is UTC under another name (Etc/UTC, a common default) is set to 'UTC'
    for each connection: psycopg then makes timestamps aware with `timezone.utc`, not a ZoneInfo
    (core/database.configure_engine). Another zone is left as it is."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's session time zone")
    from core.database import UTC_NAMES

    conn = db_session.connection()
    server = conn.exec_driver_sql("SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'").scalar()
    session = conn.exec_driver_sql("SHOW TimeZone").scalar()
    assert session == ("UTC" if server in UTC_NAMES else server)
    written = datetime(2025, 3, 10, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    read = conn.execute(select(func.cast(written, UTCDateTime()))).scalar()
    assert read == written
    if session == "UTC":
        assert read.tzinfo is timezone.utc and read.isoformat() == "2025-03-10T00:30:15.123456+00:00"


def test_the_apps_connections_run_without_jit(db_session):
    """JIT compilation is off on the app's PostgreSQL connections, whatever the server's default
    (core/database.configure_engine): its cost landed on searches estimated large and found empty."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    conn = db_session.connection()
    assert conn.exec_driver_sql("SELECT reset_val FROM pg_settings WHERE name = 'jit'").scalar() == "on"
    assert conn.exec_driver_sql("SHOW jit").scalar() == "off"
