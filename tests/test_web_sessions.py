"""Web sessions are kept on the server (table web_sessions): signing out, the idle and absolute
limits, a new password, a reset and disabling the account end them, and a copy of the cookie made
before finds its session ended. The API's bearer tokens never touch them."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select, update

from core.auth.models import WebSession
from core.auth.services import token_digest
from core.extensions import db
from core.models import utcnow
from tests.web_helpers import PASSWORD, csrf_token, fresh_limits, sign_in  # noqa: F401 (fixture)


def _cookie(app, browser) -> str:
    return browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _copy(app, browser):
    """Another browser holding a copy of `browser`'s session cookie (a shared computer, a proxy log)."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], _cookie(app, browser))
    return thief


def _refused(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _sign_out(browser):
    return browser.post("/logout", data={"csrf_token": csrf_token(browser, "/")})


def _rows(db_session, user_id: int) -> list[WebSession]:
    db_session.expire_all()
    return list(db_session.scalars(select(WebSession).where(WebSession.user_id == user_id).order_by(WebSession.id)))


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app, client, make_user, db_session):
    user, _ = make_user("inspector")
    assert sign_in(client, user.username).status_code == 302
    copied = _cookie(app, client)
    thief = _copy(app, client)
    assert thief.get("/batches").status_code == 200  # the copy works while the session is open
    assert _sign_out(client).status_code == 302

    assert _refused(thief.get("/batches"))
    assert _refused(thief.get("/"))  # and stays refused: the refusal cleared nothing on the server
    [row] = _rows(db_session, user.id)
    assert row.ended_at is not None and row.ended_reason == "signed_out"
    session_id = app.session_interface.get_signing_serializer(app).loads(copied)["sid"]
    assert row.digest == token_digest(session_id) != session_id  # only the id's digest is kept


def test_idle_and_absolute_limits_are_measured_on_the_server_for_a_copied_cookie(app, client, make_user,
                                                                                 db_session):
    user, _ = make_user("inspector")
    sign_in(client, user.username)
    thief = _copy(app, client)  # its own timestamps are fresh: only the server knows it is idle
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    db_session.execute(update(WebSession).values(last_seen_at=utcnow() - idle - timedelta(seconds=5)))
    db_session.commit()
    assert _refused(thief.get("/batches"))
    assert _refused(client.get("/batches"))  # the session is over, whoever holds the cookie
    [row] = _rows(db_session, user.id)
    assert row.ended_reason == "idle"

    sign_in(client, user.username)
    thief = _copy(app, client)
    absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    db_session.execute(update(WebSession).where(WebSession.ended_at.is_(None))
                       .values(created_at=utcnow() - absolute - timedelta(seconds=5)))
    db_session.commit()
    assert _refused(thief.get("/batches"))
    assert [r.ended_reason for r in _rows(db_session, user.id)] == ["idle", "expired"]


def test_use_moves_last_seen_at_most_once_a_minute(app, client, make_user, db_session):
    user, _ = make_user("inspector")
    sign_in(client, user.username)
    [row] = _rows(db_session, user.id)
    signed_in_at = row.last_seen_at
    assert client.get("/batches").status_code == 200
    assert _rows(db_session, user.id)[0].last_seen_at == signed_in_at  # within the minute: no write
    long_ago = utcnow() - timedelta(minutes=5)
    db_session.execute(update(WebSession).values(last_seen_at=long_ago))
    db_session.commit()
    assert client.get("/batches").status_code == 200
    assert _rows(db_session, user.id)[0].last_seen_at > long_ago + timedelta(minutes=4)


def test_signing_out_in_one_browser_leaves_the_other_signed_in(app, client, make_user, db_session):
    user, _ = make_user("inspector")
    office, home = client, app.test_client()
    sign_in(office, user.username)
    sign_in(home, user.username)
    _sign_out(office)
    assert _refused(office.get("/batches"))
    assert home.get("/batches").status_code == 200
    assert [r.ended_reason for r in _rows(db_session, user.id)] == ["signed_out", None]


def test_signing_in_over_a_session_ends_the_one_it_replaces(app, client, make_user, db_session):
    first, _ = make_user("inspector")
    second, _ = make_user("inspector")
    sign_in(client, first.username)
    left_behind = _copy(app, client)
    sign_in(client, second.username)  # the next person at a shared computer, without signing out
    assert _refused(left_behind.get("/batches"))
    assert [r.ended_reason for r in _rows(db_session, first.id)] == ["replaced"]
    assert client.get("/batches").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, make_user, db_session):
    user, _ = make_user("inspector")
    mine, other = client, app.test_client()
    sign_in(mine, user.username)
    sign_in(other, user.username)
    r = mine.post("/account/password", data={"csrf_token": csrf_token(mine, "/account/password"),
                                             "current_password": PASSWORD, "new_password": "a-new-password",
                                             "confirm": "a-new-password"})
    assert r.status_code == 302
    assert mine.get("/batches").status_code == 200
    assert _refused(other.get("/batches"))
    assert [r.ended_reason for r in _rows(db_session, user.id)] == [None, "password_changed"]


def test_an_administrators_reset_ends_the_users_sessions(app, client, make_user, db_session):
    admin, _ = make_user("admin")
    user, _ = make_user("inspector")
    admins, users = client, app.test_client()
    sign_in(admins, admin.username)
    sign_in(users, user.username)
    assert users.get("/batches").status_code == 200
    r = admins.post(f"/admin/users/{user.id}/password",
                    data={"csrf_token": csrf_token(admins, f"/admin/users/{user.id}")})
    assert r.status_code == 200
    assert _refused(users.get("/batches"))
    assert [r.ended_reason for r in _rows(db_session, user.id)] == ["password_reset"]
    assert admins.get("/admin/users").status_code == 200  # the administrator's own session goes on


def test_disabling_a_user_ends_their_sessions_for_good(app, client, make_user, db_session):
    _, admin_h = make_user("admin")
    user, _ = make_user("inspector")
    sign_in(client, user.username)
    assert app.test_client().patch(f"/api/users/{user.id}", json={"active": False}, headers=admin_h).status_code == 200
    assert app.test_client().patch(f"/api/users/{user.id}", json={"active": True}, headers=admin_h).status_code == 200
    # Re-enabled, the account signs in afresh; the cookie from before stays refused
    assert _refused(client.get("/batches"))
    assert [r.ended_reason for r in _rows(db_session, user.id)] == ["disabled"]
    assert sign_in(app.test_client(), user.username).status_code == 302


def test_a_cookie_from_before_the_server_kept_sessions_is_refused(app, client, make_user, db_session):
    user, _ = make_user("inspector")
    sign_in(client, user.username)
    with client.session_transaction() as cookie:
        del cookie["sid"]  # as a cookie signed in before migration 0016 carries
    assert _refused(client.get("/batches"))


def test_the_api_never_reads_web_sessions(app, client, make_user, db_session):
    user, headers = make_user("inspector")
    sign_in(client, user.username)  # a browser sending its cookie along to the API too
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get("/api/me", headers=headers).status_code == 200
        assert client.get("/api/batches", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements and not [s for s in statements if "web_sessions" in s]


def test_finished_sessions_are_pruned_nightly_or_on_command(app, client, runner, make_user, db_session):
    from core.worker import build_scheduler

    user, _ = make_user("inspector")
    now = utcnow()
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    rows = {"live": WebSession(digest="a" * 64, user_id=user.id, created_at=now - timedelta(hours=2),
                               last_seen_at=now - idle + timedelta(minutes=1)),
            "ended": WebSession(digest="b" * 64, user_id=user.id, created_at=now, last_seen_at=now,
                                ended_at=now, ended_reason="signed_out"),
            "idle": WebSession(digest="c" * 64, user_id=user.id, created_at=now - timedelta(hours=1),
                               last_seen_at=now - idle - timedelta(minutes=1)),
            "expired": WebSession(digest="d" * 64, user_id=user.id, created_at=now - absolute - timedelta(minutes=1),
                                  last_seen_at=now)}
    db_session.add_all(rows.values())
    db_session.commit()
    done = runner.invoke(args=["users", "prune-sessions"])
    assert done.exit_code == 0 and "deleted 3 finished web session(s)" in done.output
    assert [r.digest for r in _rows(db_session, user.id)] == ["a" * 64]

    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert str(jobs["web-sessions-prune"].trigger) == "cron[hour='4', minute='15']"
