"""Every page of every role, on a tablet-sized screen (768 px wide), in Chromium.

Each page a role may open must answer 200 without a JavaScript or console error (the
`open_page` fixture fails the test on any), fit the screen's width (wide tables scroll inside
their own box), name every form control with a label, and keep the keyboard's focus order
the order of the page (no positive tabindex).
"""
from __future__ import annotations

from datetime import timedelta

from core.auth.permissions import GRANTS
from core.clock import local_today
from core.jobs import Job
from followup.services import cases, disposals
from followup.services.appeals import apply_for_retest, raise_objection
from tests.browser.conftest import sign_in
from tests.browser.test_followup_in_chromium import _failed_batch
from tests.series_data import MILK, csv_rows, load
from tests.web_helpers import seed_alert
from warning.notify.services import create_subscription, create_webhook

PAGE_BLUEPRINTS = ("web", "batch_pages", "supervision", "reports", "admin", "followup_pages", "subscription_pages")
NOT_PAGES = {"batch_pages.job_progress",  # JSON polled by the job page
             "batch_pages.import_template",  # a file download
             "batch_pages.export"}  # a file download (or back to the list with a message)
QUERIES = {"supervision.series": f"?category={MILK}&region=330106",
           "supervision.dashboard": "?period=year&at=2025&category=food.dairy"}
TABLET = (768, 1024)

# Which labelled controls a page lacks, whether it overflows the screen, and positive tabindexes.
CHECK_PAGE = """() => {
  const visible = el => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden';
  const controls = [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && visible(el));
  const unnamed = controls.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                                        && !el.getAttribute('aria-labelledby'))
    .map(el => el.outerHTML.slice(0, 120));
  const tabbed = [...document.querySelectorAll('[tabindex]')].filter(el => el.tabIndex > 0)
    .map(el => el.outerHTML.slice(0, 120));
  return {unnamed, tabbed, width: document.documentElement.scrollWidth, screen: window.innerWidth};
}"""


def _seed(db_session, users: dict) -> dict:
    """One of everything a page shows: series, an alert, a failed batch with its disposal,
    retest, objection and recall case, a subscription, a webhook, import jobs."""
    admin = users["admin"]
    load(db_session, admin.id, "".join(csv_rows("330106", f"2025-{m:02d}", 20, 1 if m < 4 else 5)
                                       for m in range(1, 7)))
    alert = seed_alert(db_session, MILK, "330106")
    batch_id = _failed_batch(db_session, admin.id)
    told = local_today() - timedelta(days=3)
    disposals.record_disposal(db_session, batch_id, {"severity": "general", "notified_on": told}, admin.id, None)
    apply_for_retest(db_session, batch_id, {"applied_on": told, "laboratory": "宁波市食品检验检测研究院"}, admin.id, None)
    raise_objection(db_session, batch_id, {"subject": "method", "grounds": "检验方法有误", "raised_on": told},
                    admin.id, None)
    case = cases.open_case(db_session, {"kind": "recall", "batch_ids": [batch_id], "title": "纯牛奶召回",
                                        "level": "II"}, admin.id, None)
    subs = {role: create_subscription(db_session, {"email": f"{role}@example.cn"}, users[role].id, None).id
            for role in ("supervisor", "admin")}  # the page shows one's own
    create_webhook(db_session, {"url": "http://hooks.example.cn/alerts"}, admin.id)
    jobs = {}  # a job's page is its owner's
    for role in ("inspector", "admin"):
        job = Job(kind="import_batches", params={"filename": "batches.csv"}, created_by_id=users[role].id,
                  status="done", progress=2, total=2,
                  result={"accepted": 1, "unchanged": 0, "stored": True, "import_id": None,
                          "rejected": [{"row": 3, "column": "category", "reason": "unknown category code 'x'"}]})
        db_session.add(job)
        db_session.commit()
        jobs[role] = job.id
    enterprise_id = db_session.get(type(case), case.id).enterprise_id
    return {"batch_id": batch_id, "alert_id": alert.id, "case_id": case.id, "enterprise_id": enterprise_id,
            "user_id": users["inspector"].id, "per_role": {"job_id": jobs, "sub_id": subs}}


def _pages(app, role: str, ids: dict) -> list[str]:
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            view = app.view_functions[rule.endpoint]
            permission = getattr(view, "permission", None)
            if (rule.endpoint.split(".")[0] not in PAGE_BLUEPRINTS or "GET" not in rule.methods
                    or permission is None or rule.endpoint in NOT_PAGES or role not in GRANTS[permission]):
                continue
            values = {arg: ids["per_role"][arg][role] if arg in ids["per_role"] else ids[arg] for arg in rule.arguments}
            urls.append(url_for(rule.endpoint, **values) + QUERIES.get(rule.endpoint, ""))
    return urls + ["/", "/account/password"]


def test_every_page_of_every_role_works_on_a_tablet(app, open_page, make_user, db_session):
    users = {role: make_user(role, username=f"all-{role}")[0]
             for role in ("inspector", "supervisor", "agency", "admin")}
    ids = _seed(db_session, users)
    problems, visited = [], 0
    for role, user in users.items():
        page = open_page(viewport=TABLET)
        sign_in(page, user.username)
        for url in _pages(app, role, ids):
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            visited += 1
            if response.status != 200:
                problems.append(f"{role} {url}: HTTP {response.status}")
                continue
            found = page.evaluate(CHECK_PAGE)
            if found["width"] > found["screen"]:
                problems.append(f"{role} {url}: {found['width']} px wide on a {found['screen']} px screen")
            problems += [f"{role} {url}: control without a label: {c}" for c in found["unnamed"]]
            problems += [f"{role} {url}: positive tabindex: {c}" for c in found["tabbed"]]
        page.context.close()
    assert visited > 60
    assert problems == [], "\n".join(problems)
