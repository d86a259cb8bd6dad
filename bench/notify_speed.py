"""Notification cost: the scan's outbox fan-out, and outbox delivery against plain SMTP sends.

    python bench/notify_speed.py [--database-url URL] [--alerts 800] [--subscriptions 200]

Builds a migrated database with reference data, `--subscriptions` supervisors subscribed to
random city or county subtrees and category subtrees, and one scan that raised `--alerts`
alerts (county series and their city series, so groups form). It times `notify_scan` (grouping
and writing the outbox, what a scan adds), then delivers every notice to a local SMTP server
(aiosmtpd) with `deliver_due`, and as the baseline sends the same messages with smtplib alone
(one connection each, as the delivery does, no outbox bookkeeping). Prints seconds, notices a
second and the ratio delivery/baseline.
"""
from __future__ import annotations

import argparse
import random
import socket
import time

from common import default_sqlite_url, make_app, reset_database, user_id  # noqa: I001
from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import func, select

from core.auth.models import User, UserRole
from core.auth.services import hash_password
from core.extensions import db
from core.reference.seed import seed_reference
from core.reference.trees import load_trees
from warning.models import Alert, AlertEvent, Scan
from warning.notify import mail
from warning.notify.delivery import DeliverySettings, deliver_due
from warning.notify.models import OutboxMessage, Subscription
from warning.notify.outbox import notify_scan


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build(alerts: int, subscriptions: int, rng: random.Random) -> Scan:
    trees = load_trees(db.session)
    counties = [c for c, n in trees.regions.nodes.items() if n.level == 3]
    leaves = [c for c in trees.categories.nodes if not trees.categories.kids(c)]
    tops = [c for c in trees.categories.nodes if trees.categories.nodes[c].parent_code is None]
    password_hash = hash_password("bench-password")  # argon2 once, not once per user
    for i in range(subscriptions):
        region = rng.choice(counties)
        region = trees.regions.nodes[region].parent_code if rng.random() < 0.5 else region
        user = User(username=f"sup{i}", password_hash=password_hash, region_code=region,
                    role_rows=[UserRole(role="supervisor")])
        db.session.add(user)
        db.session.flush()
        db.session.add(Subscription(user_id=user.id, email=f"sup{i}@example.test", region_code=region,
                                    category_code=rng.choice(tops + ["*"]), min_level=rng.choice(("yellow", "orange")),
                                    active=True))
    scan = Scan(as_of="2025-06", status="running", model_version="bench", settings={}, series_assessed=0,
                alerts_raised=0, alerts_escalated=0, alerts_resolved=0)
    db.session.add(scan)
    db.session.flush()
    keys: set = set()
    while len(keys) < alerts:
        county, category = rng.choice(counties), rng.choice(leaves)
        keys.add((category, county))
        if len(keys) < alerts and rng.random() < 0.3:  # a city-wide drift: the city too
            keys.add((category, trees.regions.nodes[county].parent_code))
    for category, region in sorted(keys):  # sets iterate in a hash order that changes per run
        level = rng.choice(("yellow", "orange", "red"))
        alert = Alert(category_code=category, region_code=region, level=level, status="open",
                      opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.9)
        alert.events.append(AlertEvent(action="raised", scan_id=scan.id, to_level=level))
        db.session.add(alert)
    db.session.commit()
    return scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=default_sqlite_url("notify.sqlite"))
    parser.add_argument("--alerts", type=int, default=800)
    parser.add_argument("--subscriptions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reset_database(args.database_url)
    app = make_app(args.database_url)
    with app.app_context():
        upgrade()
        seed_reference(db.session)
        user_id()
        scan = build(args.alerts, args.subscriptions, random.Random(args.seed))

        started = time.perf_counter()
        written = notify_scan(db.session, db.session.get(Scan, scan.id))
        db.session.commit()
        fan_out = time.perf_counter() - started
        print(f"fan-out: {args.alerts} alerts, {args.subscriptions} subscriptions -> {written} notices "
              f"in {fan_out:.2f} s")

        sink, port = Sink(), free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            settings = DeliverySettings(base_url="https://warning.example.test", mail_server="127.0.0.1",
                                        mail_port=port, mail_from="warning@example.test")
            rows = [(r.id, r.address, r.payload) for r in db.session.scalars(select(OutboxMessage))]
            db.session.rollback()
            started = time.perf_counter()
            for outbox_id, address, payload in rows:
                mail.send(mail.compose(payload, outbox_id, settings.mail_from, address, settings.base_url),
                          "127.0.0.1", port, False, None, None, 10)
            baseline = time.perf_counter() - started
            started = time.perf_counter()
            report = deliver_due(db.session, settings, limit=len(rows) + 1)
            delivery = time.perf_counter() - started
        finally:
            controller.stop()
        sent = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent"))
        assert report.sent == sent == len(rows) and sink.count == 2 * len(rows), (report, sent, sink.count)
        print(f"baseline (smtplib alone): {len(rows)} messages in {baseline:.2f} s "
              f"({len(rows) / baseline:.0f}/s)")
        print(f"delivery (outbox claim, send, record): {len(rows)} notices in {delivery:.2f} s "
              f"({len(rows) / delivery:.0f}/s); ratio delivery/baseline {delivery / baseline:.2f}")


if __name__ == "__main__":
    main()
