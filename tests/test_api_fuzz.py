"""API fuzz run (schemathesis) against the app's own OpenAPI document, once per identity.

Every operation in `/api/openapi.json` is fuzzed twice: authenticated as a provincial
administrator (330000) and as a county inspector (330106, role inspector). Schemathesis runs
its examples phase (the `example` values of the schemas), its coverage phase (boundary and
invalid values, undeclared methods) and its fuzzing phase, and checks every response:

- never a 5xx, whatever the input;
- the response conforms to the document: a documented status code, content type and headers,
  and a body valid against the documented schema (errors against the `Error` schema too);
- schemathesis' other default checks: schema-violating input is refused with a 4xx, a missing
  required header is refused, an undeclared method gets 405 with `Allow`, auth is not ignored.
  `positive_data_acceptance` is off: input that is schema-valid but semantically wrong (an
  unknown region code, a wrong check digit, a report date before the sampling date, a cursor
  this API never issued) is rightly refused with 422, and JSON Schema cannot say so.

A 403 for the inspector on an administrator's route and a 404 for an absent or out-of-region id
are correct answers. So that the run is not hollow, the last test asserts that every operation
was answered 2xx at least once for the administrator, and for the inspector every operation its
role allows (core/auth/permissions.py) -- and none of the others.

Each operation is fuzzed against a freshly seeded world (`seed`), so no operation depends on what
another one did: id 1 of every kind exists and lies in the inspector's county (user 1 is a
spare account, not one of the two identities); batch 4 is in Ningbo, outside that county.
"""
from __future__ import annotations

import io
import re
from collections import defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from core.auth.models import User, UserRole
from core.auth.permissions import GRANTS
from core.auth.services import hash_password, issue_token, user_for_token
from core.extensions import db
from core.jobs import enqueue
from factory import create_app
from inspection.jobs import IMPORT_JOB
from tests.conftest import VALID_CODE, IsolatedClient, batch_payload, clean_database
from tests.followup_data import seed_followup_world
from warning.models import Alert, AlertEvent, Assessment, Scan
from warning.notify.models import Subscription, Webhook
from warning.notify.sealing import seal

PASSWORD = "correct horse battery"  # the PasswordChange example's current_password
IDENTITIES = {  # who -> (username, roles, region)
    "admin": ("fuzz-admin", ("admin",), "330000"),
    "inspector": ("fuzz-inspector", ("inspector",), "330106"),
}
MAX_EXAMPLES = 30  # per operation and identity in the fuzzing phase; the other phases are finite

CONFIG = {
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "database": "none",  # no .hypothesis directory; each CI run explores afresh
        # The harness sends the identity's bearer token; schemathesis must not replace or drop it
        # (anonymous access is covered by tests/test_permissions.py).
        "with-security-parameters": False,
    },
    "checks": {
        "positive_data_acceptance": {"enabled": False},  # see the module docstring
        # 428 Precondition Required is the answer to a missing If-Match (RFC 6585).
        "missing_required_header": {"expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]},
    },
}

# The document is read at collection time, from an app built like the `app` fixture's (it needs
# no database); the requests go to the fixture's app. `schemathesis.pytest.from_fixture` would
# read it from the fixture directly, but in 4.32.5 it fails on pytest 9 (`Function._nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", create_app("testing", {"DATABASE_URL": "sqlite://"}),
                                        config=schemathesis.Config.from_dict(CONFIG))

# who -> (METHOD, path template) -> every status it was answered with
SEEN: dict[str, dict[tuple[str, str], set[int]]] = {who: defaultdict(set) for who in IDENTITIES}


def seed_alert(session) -> None:
    """A scan with one assessment and an open alert on liquid milk in Xihu (330106)."""
    scan = Scan(as_of="2025-04", status="done", model_version="classical-1", settings={},
                series_assessed=1, alerts_raised=1, alerts_escalated=0, alerts_resolved=0)
    session.add(scan)
    session.flush()
    session.add(Assessment(scan_id=scan.id, category_code="food.dairy.liquid_milk", region_code="330106",
                           floor=0.93, pass_rate=0.9, pass_rate_lo=0.85, pass_rate_hi=0.95, slope=-1.0,
                           forecast=[{"month": "2025-05", "rate": 0.89, "lo": 0.8, "hi": 0.95}],
                           probability=0.99, level="yellow", reasons={"zh": "下降", "en": "falling"}))
    alert = Alert(category_code="food.dairy.liquid_milk", region_code="330106", level="yellow",
                  status="open", opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.99)
    alert.events.append(AlertEvent(action="raised", to_level="yellow"))
    session.add(alert)
    session.commit()


def seed_notifications(session, user_id: int) -> None:
    session.add(Subscription(user_id=user_id, email="fuzz@example.test", region_code="330106",
                             category_code="*", min_level="yellow", active=True))
    session.add(Webhook(url="https://hooks.example.test/warning", secret_encrypted=seal("fuzz-secret-0123456789"),
                        region_code="330000", category_code="*", min_level="yellow", active=True,
                        created_by_id=user_id))
    session.commit()


class Harness:
    """The app under test, the identities' bearer headers, and the seeded world."""

    def __init__(self, app):
        self.app = app
        self.headers: dict[str, dict[str, str]] = {}
        self.password_hash = hash_password(PASSWORD)  # argon2 once, not once per seeded user

    def add_user(self, username: str, roles, region: str) -> None:
        db.session.add(User(username=username, password_hash=self.password_hash, region_code=region,
                            role_rows=[UserRole(role=r) for r in roles]))
        db.session.commit()

    def ensure_identities(self) -> None:
        """Undo what a fuzzed call did to the harness's own accounts (revoked token, changed roles)."""
        with self.app.app_context():
            session = db.session
            for who, (username, roles, region) in IDENTITIES.items():
                user = session.scalar(select(User).where(User.username == username))
                if user is None:
                    self.add_user(username, roles, region)
                    user = session.scalar(select(User).where(User.username == username))
                if user.roles != set(roles) or user.region_code != region or not user.active:
                    user.role_rows = [UserRole(role=r) for r in roles]
                    user.region_code, user.active = region, True
                    session.commit()
                token = self.headers.get(who, {}).get("Authorization", "").removeprefix("Bearer ")
                if not token or user_for_token(session, token) is None:
                    self.headers[who] = {"Authorization": f"Bearer {issue_token(session, username)}"}
            session.remove()

    def seed(self) -> None:
        """Empty the database (ids restart at 1) and record a small world over the API."""
        with self.app.app_context():
            clean_database()
            self.add_user("fuzz-target", ["agency"], "330106")  # user 1: a spare account to change
            db.session.remove()
        self.headers.clear()
        self.ensure_identities()  # users 2 and 3
        client = self.app.test_client()
        admin, inspector = self.headers["admin"], self.headers["inspector"]
        for _ in range(3):  # batches 1-3 in the inspector's county; enterprise 1 (VALID_CODE)
            response = client.post("/api/batches", json=batch_payload(), headers=inspector)
            assert response.status_code == 201, response.json
        response = client.post("/api/batches", json=batch_payload(region="330212"), headers=admin)  # batch 4
        assert response.status_code == 201, response.json
        rows = "".join(f"FZ-{i},2025-04-0{i},food.dairy.liquid_milk,330106,pass,{VALID_CODE},,,\n" for i in (1, 2, 3))
        csv = ("sample_no,sampled_on,category,region,result,enterprise_credit_code,enterprise_name,"
               "failed_items,fail_reason\n" + rows).encode("utf-8")
        response = client.post("/api/batches/import", headers=admin, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(csv), "batches.csv")})  # import run 1
        assert response.status_code == 200 and response.json["accepted"] == 3, response.json
        with self.app.app_context():  # job 1, queued by the inspector (so both may read it)
            inspector_id = db.session.scalar(select(User.id).where(User.username == "fuzz-inspector"))
            enqueue(db.session, IMPORT_JOB, {"filename": "big.csv", "atomic": False, "scope": "330106"},
                    csv, inspector_id)
            seed_alert(db.session)  # scan 1, its assessment and open alert 1 in the county
            seed_notifications(db.session, inspector_id)  # subscription 1, webhook 1
            db.session.remove()
        seed_followup_world(client, admin)  # batches 8-9, disposals, retest 1, objection 1, case 1

    def run(self, case, who: str) -> None:
        auth = self.headers[who]
        response = case.call(headers=auth, app=self.app)
        if case.method.upper() == case.operation.method.upper():  # not a coverage probe of another method
            SEEN[who][(case.operation.method.upper(), case.operation.path)].add(response.status_code)
        try:
            case.validate_response(response, headers=auth, transport_kwargs={"app": self.app, "headers": auth})
        finally:
            if case.operation.path.startswith(("/api/users", "/api/me")):
                self.ensure_identities()


@pytest.fixture(scope="module")
def harness(app):
    app.test_client_class = IsolatedClient
    yield Harness(app)
    with app.app_context():
        clean_database()
        db.session.remove()


@pytest.fixture
def world(harness):
    """A freshly seeded world for each operation (each test item); not per generated example."""
    harness.seed()
    return harness


# The fixture runs once per operation on purpose, hence the suppressed health check.
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzz_as_administrator(case, world):
    world.run(case, "admin")


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fuzz_as_county_inspector(case, world):
    world.run(case, "inspector")


def _operations(app) -> dict[tuple[str, str], str | None]:
    """(METHOD, OpenAPI path) -> the permission its view requires (None: any signed-in user)."""
    ops = {}
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        if not rule.rule.startswith("/api/") or view_class is None:
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule.rule)  # <int(max=..):id> -> {id}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = getattr(view_class, method.lower(), None)
            if handler is not None:
                ops[(method, path)] = getattr(handler, "permission", None)
    return ops


# Last in the module, so it runs after both fuzz runs.
def test_zz_every_operation_was_answered_2xx(app):
    documented = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    permissions = _operations(app)
    assert set(permissions) == documented, "the document and the routes disagree"
    for who, (_, roles, _) in IDENTITIES.items():
        seen = SEEN[who]
        if not seen:
            pytest.skip(f"the fuzz run as {who} did not run in this session")
        allowed = {op for op, perm in permissions.items() if perm is None or set(roles) & GRANTS[perm]}
        never_2xx = {f"{m} {p}": sorted(seen.get((m, p), ())) for m, p in sorted(allowed)
                     if not any(200 <= s < 300 for s in seen.get((m, p), ()))}
        assert not never_2xx, f"as {who}, operations never answered 2xx (statuses seen): {never_2xx}"
        leaked = {f"{m} {p}": sorted(seen[(m, p)]) for m, p in sorted(documented - allowed)
                  if any(200 <= s < 300 for s in seen.get((m, p), ()))}
        assert not leaked, f"as {who}, operations the role does not allow answered 2xx: {leaked}"
