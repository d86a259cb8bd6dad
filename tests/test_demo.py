"""`seed_demo`: a believable province of data, stored once however often it runs."""
from sqlalchemy import func, select

from core.auth.models import User
from core.auth.services import verify_password
from core.clock import local_today
from core.reference.trees import load_trees
from inspection.credit_code import credit_code_error
from inspection.demo import DEMO_USERS, DRIFTS, seed_demo
from inspection.models import Batch, Enterprise, ImportRun
from warning.engine.levels import RANK
from warning.models import Alert
from warning.scan import run_scan, train_risk_model

MONTHS = 3  # about 4,000 batches: quick, yet enough for stable rates


def _batch_count(session) -> int:
    return session.scalar(select(func.count(Batch.id)))


def test_seed_demo_stores_a_believable_province(db_session):
    lines = seed_demo(db_session, months=MONTHS)

    run = db_session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
    batches = _batch_count(db_session)
    assert 3_000 < batches < 6_000
    assert (run.accepted, run.unchanged, run.rejected) == (batches, 0, 0)
    assert any(f"{batches:,} accepted" in line for line in lines)

    failed = db_session.scalar(select(func.count(Batch.id)).where(Batch.conclusion == "fail"))
    assert 0.95 <= 1 - failed / batches <= 0.99

    codes = db_session.scalars(select(Enterprise.credit_code)).all()
    assert len(codes) > 500
    assert [c for c in codes if credit_code_error(c)] == []
    local = sum(c[2:4] == "33" for c in codes)
    assert 0.6 < local / len(codes) < 0.95  # some producers come from other provinces

    today = local_today()
    assert db_session.scalar(select(func.max(Batch.sampled_on))) < today.replace(day=1)
    assert db_session.scalar(select(func.max(Batch.reported_on))) <= today

    trees = load_trees(db_session)
    for drift in DRIFTS:  # the README names these series: they must exist
        assert drift["category"] in trees.categories and drift["region"] in trees.regions


def test_seed_demo_creates_one_user_per_role(db_session):
    seed_demo(db_session, months=1)

    for spec in DEMO_USERS:
        user = db_session.scalar(select(User).where(User.username == spec["username"]))
        assert user is not None
        assert user.roles == set(spec["roles"])
        assert user.region_code == spec["region"]
        assert verify_password(user, f"{spec['username']}-demo-2026")


def test_seed_demo_twice_adds_nothing(db_session):
    seed_demo(db_session, months=MONTHS)
    batches, enterprises = _batch_count(db_session), db_session.scalar(select(func.count(Enterprise.id)))
    users = db_session.scalar(select(func.count(User.id)))

    lines = seed_demo(db_session, months=MONTHS)

    run = db_session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
    assert (run.accepted, run.unchanged, run.rejected) == (0, batches, 0)
    assert _batch_count(db_session) == batches
    assert db_session.scalar(select(func.count(Enterprise.id))) == enterprises
    assert db_session.scalar(select(func.count(User.id))) == users
    assert "demo users: all present" in lines


def test_a_scan_of_the_full_demo_flags_every_planted_drift(db_session, tmp_path):
    seed_demo(db_session)  # the full 36 months: the risk model trains on the demo's own history

    trained = train_risk_model(db_session, None, str(tmp_path))
    scan = run_scan(db_session, None, "test", model_dir=str(tmp_path))

    assert scan.model_version == trained["version"]

    assert scan.model_version.startswith("sklearn-")  # the history-trained model, not classical
    alerts = {(a.category_code, a.region_code): a.level
              for a in db_session.scalars(select(Alert).where(Alert.status == "open"))}
    for drift in DRIFTS:
        assert RANK[alerts.get((drift["category"], drift["region"]), "none")] >= RANK["yellow"], drift
    # an inbox a supervisor can work through: a few dozen alerts, not hundreds
    assert 3 <= len(alerts) <= 80
