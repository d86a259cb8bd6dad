"""How past warnings turned out (warning/track_record.py), its API and its page."""
from __future__ import annotations

from tests.series_data import MILK, csv_rows, load
from tests.web_helpers import seed_alert, signed_in  # noqa: F401 (fixture)
from warning.models import Assessment, Scan
from warning.track_record import track_record

XIHU, BINJIANG, YINZHOU = "330106", "330108", "330212"


def _scan(session, as_of: str, levels: dict, **settings) -> Scan:
    scan = Scan(as_of=as_of, status="done", model_version="test", settings={"horizon": 3, "label_alpha": 0.2, **settings},
                series_assessed=len(levels), alerts_raised=0)
    session.add(scan)
    session.flush()
    for region, level in levels.items():
        session.add(Assessment(scan_id=scan.id, category_code=MILK, region_code=region, floor=0.93, pass_rate=0.9,
                               pass_rate_lo=0.85, pass_rate_hi=0.95, slope=0.0, forecast=[], probability=0.5,
                               level=level, reasons={}))
    session.commit()
    return scan


def _world(session, make_user):
    admin, _ = make_user("admin")
    # After 2025-03: Xihu fails 10 of 30 (beyond chance at 93%), Binjiang none of 30; Yinzhou has no batch.
    load(session, admin.id, csv_rows(XIHU, "2025-04", 10, 4) + csv_rows(XIHU, "2025-05", 10, 3)
         + csv_rows(XIHU, "2025-06", 10, 3) + csv_rows(BINJIANG, "2025-05", 30, 0))
    _scan(session, "2025-03", {XIHU: "none", BINJIANG: "orange"})  # superseded by the later scan of 2025-03
    _scan(session, "2025-03", {XIHU: "orange", BINJIANG: "none", YINZHOU: "yellow"})
    _scan(session, "2025-05", {XIHU: "red", BINJIANG: "red"})  # its months run to 2025-08: not over


def test_the_record_follows_each_assessed_series_into_the_months_after_its_scan(db_session, make_user):
    _world(db_session, make_user)
    record = track_record(db_session, None, "2025-06")
    assert record["scans"] == [{"as_of": "2025-03", "horizon": 3, "series": 2, "fell_below": 1}]
    levels = {row["level"]: (row["series"], row["fell_below"]) for row in record["levels"]}
    assert levels["orange"] == (1, 1) and levels["none"] == (1, 0) and levels["yellow"] == (0, 0)
    assert record["flagged"] == {"series": 1, "fell_below": 1, "share": 1.0}
    assert record["not_flagged"] == {"series": 1, "fell_below": 0, "share": 0.0}
    assert record["falls_flagged_before"] == 1.0
    # Once 2025-05's months are over it counts too: Xihu (3 of 10 failed in June) fell below;
    # Binjiang had no batch after May and is left out.
    later = track_record(db_session, None, "2025-08")
    assert later["scans"][0] == {"as_of": "2025-05", "horizon": 3, "series": 1, "fell_below": 1}
    assert later["flagged"] == {"series": 2, "fell_below": 2, "share": 1.0}
    # A far stricter label asks for more failures than Xihu's 7 in 20 of 2025-03 to 2025-05.
    _scan(db_session, "2025-02", {XIHU: "orange"}, label_alpha=1e-6)
    strict = track_record(db_session, None, "2025-06")
    assert strict["scans"][1] == {"as_of": "2025-02", "horizon": 3, "series": 1, "fell_below": 0}


def test_the_record_stays_within_the_callers_region(db_session, make_user):
    _world(db_session, make_user)
    binjiang = track_record(db_session, BINJIANG, "2025-06")
    assert binjiang["flagged"]["series"] == 0 and binjiang["not_flagged"] == {"series": 1, "fell_below": 0, "share": 0.0}
    assert binjiang["falls_flagged_before"] is None  # nothing fell below there


def test_the_api_and_the_page_give_the_record(client, db_session, make_user, signed_in):
    _world(db_session, make_user)
    seed_alert(db_session, MILK, XIHU, as_of="2099-01")  # a newer scan: not over, not counted
    _, headers = make_user("supervisor", region="330100")
    answer = client.get("/api/scans/track-record?scans=5", headers=headers)
    assert answer.status_code == 200 and answer.json["flagged"]["fell_below"] >= 1
    assert {s["as_of"] for s in answer.json["scans"]} <= {"2025-03", "2025-05"}
    bad = client.get("/api/scans/track-record?scans=0", headers=headers)
    assert bad.status_code == 422 and "scans" in bad.json["errors"]
    signed_in("supervisor", region="330100")
    assert 'id="track-record" href="/supervision/alerts/track-record"' in client.get("/supervision/alerts").data.decode()
    page = client.get("/supervision/alerts/track-record").data.decode()
    assert "以往预警的结果" in page and "个中的" in page and 'id="record-levels"' in page
