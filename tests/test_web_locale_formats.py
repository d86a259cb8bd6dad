"""Months, dates and numbers on the pages follow the reader's locale; long lists are paged."""
from __future__ import annotations

import re

from sqlalchemy import select

from inspection.models import Enterprise
from tests.series_data import MILK, csv_rows, load
from tests.test_web_followup_pages import _failed
from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401 (fixtures)


def _english(client):
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/"})


def test_series_months_and_counts_follow_the_locale(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, "".join(csv_rows("330106", f"2025-{m:02d}", 1200 if m == 6 else 20, 1)
                                       for m in range(1, 7)))
    signed_in("supervisor")
    url = f"/supervision/series?category={MILK}&region=330106"
    page = client.get(url).data.decode()
    assert "<td>2025年6月</td><td>1,200</td>" in page
    _english(client)
    assert "<td>Jun 2025</td><td>1,200</td>" in client.get(url).data.decode()


def test_plan_month_in_the_locale(client, signed_in, db_session):
    signed_in("agency")
    assert "2025年7月抽检计划" in client.get("/followup/plan?month=2025-07").data.decode().replace(" ", "")
    _english(client)
    assert "Jul 2025" in client.get("/followup/plan?month=2025-07").data.decode()


def test_an_enterprises_failed_batches_are_paged(client, signed_in, db_session):
    signed_in("agency")
    for _ in range(26):
        _failed(db_session)
    enterprise = db_session.scalar(select(Enterprise))
    page = client.get(f"/followup/enterprises/{enterprise.id}").data.decode()
    assert len(re.findall(r'href="/followup/disposals/\d+"', page)) == 25
    assert f'href="/followup/enterprises/{enterprise.id}?page=2" rel="next"' in page
    second = client.get(f"/followup/enterprises/{enterprise.id}?page=2").data.decode()
    assert len(re.findall(r'href="/followup/disposals/\d+"', second)) == 1 and 'rel="prev"' in second


def test_a_month_inside_a_services_message_follows_the_locale(app):
    """A plan's reason says "截至 2025年4月" as the tables do, not "2025-04"; the API keeps ISO."""
    from followup.services.sampling_plan import THIN
    from web.i18n import translate

    reason = THIN(n=3, month="2025-04", least=20)
    assert str(reason) == "thin series: batches in the 12 months to 2025-04: 3 (fewer than 20)"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert "2025年4月" in translate(reason) and "2025-04" not in translate(reason)
        assert "2025年4月" in translate(str(reason))  # the same text read back from storage
