"""Concurrent amendments of one batch: exactly one wins each version, none is lost."""
from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from core.errors import PreconditionFailed
from core.extensions import db
from inspection.models import BatchRevision
from inspection.services.batches import amend_batch, create_batch, get_batch
from tests.conftest import batch_payload


def test_parallel_amendments_of_one_version(app, db_session, make_user):
    user, _ = make_user("admin")
    data = batch_payload(sample_no="RACE-1")
    data["sampled_on"] = date(2025, 3, 10)
    data["reported_on"] = None
    batch = create_batch(db_session, data, user.id)
    batch_id, user_id = batch.id, user.id  # plain values: the threads use their own sessions
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def amend(n: int) -> None:
        with app.app_context():
            try:
                start.wait()
                amend_batch(db.session, batch_id, {"product": f"writer {n}"}, f"writer {n}", 1, user_id)
                outcomes.append(f"won {n}")
            except (PreconditionFailed, StaleDataError):
                outcomes.append("412")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=amend, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(outcomes) == 6 and len(winners) == 1 and outcomes.count("412") == 5, outcomes
    db_session.expire_all()
    stored = get_batch(db_session, batch_id)
    assert stored.version == 2 and stored.product == f"writer {winners[0].split()[1]}"
    revisions = db_session.scalars(select(BatchRevision).where(BatchRevision.batch_id == batch_id)).all()
    assert [(r.version, r.snapshot["product"]) for r in revisions] == [(1, "纯牛奶")]
