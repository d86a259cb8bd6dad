"""Email over TLS: STARTTLS and implicit TLS with authentication against a real aiosmtpd server
whose certificate the test generates; a certificate that does not verify is refused unless the
settings trust it (MAIL_CA_FILE) or turn verification off (MAIL_TLS_VERIFY)."""
from __future__ import annotations

import ssl

import pytest

from core.models import utcnow
from tests.notify_servers import SmtpServer, self_signed_certificate
from warning.models import AlertGroup
from warning.notify import mail
from warning.notify.delivery import DeliverySettings, deliver_due
from warning.notify.models import OutboxMessage

# aiosmtpd warns about AUTH without STARTTLS; on the implicit-TLS port the session is TLS already.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
USERS = {"warning-bot": "s3cret-passw0rd"}
PAYLOAD = {"group_id": 0, "scan_id": 1, "as_of": "2024-06", "level": "orange", "alerts": [
    {"id": 7, "action": "raised", "level": "orange", "status": "open", "probability": 0.8,
     "category": "food.dairy.liquid_milk", "category_name": "液体乳", "region": "330212", "region_name": "鄞州区",
     "reason_zh": "合格率下降", "reason_en": "falling", "path": "/alerts/7"}]}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A certificate for 127.0.0.1/localhost, and one for another host name only."""
    folder = tmp_path_factory.mktemp("certs")
    return {"good": self_signed_certificate(folder),
            "other_host": self_signed_certificate(folder, names=("mail.example.test",), ips=())}


def config(port: int, **overrides) -> dict:
    base = {"BASE_URL": "https://warning.example.test", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
            "MAIL_FROM": "warning@example.test", "MAIL_USE_TLS": False, "MAIL_USE_SSL": False,
            "MAIL_TLS_VERIFY": True, "MAIL_CA_FILE": "", "MAIL_USERNAME": "", "MAIL_PASSWORD": "",
            "NOTIFY_TIMEOUT_SECONDS": 5, "NOTIFY_BACKOFF_SECONDS": 60, "NOTIFY_BACKOFF_MAX_SECONDS": 3600,
            "NOTIFY_MAX_ATTEMPTS": 12, "NOTIFY_STALE_SECONDS": 600}
    return {**base, **overrides}


def queue_notice(session, to: str = "chief@example.test") -> int:
    group = AlertGroup(scan_id=None, category_code="food.dairy.liquid_milk", region_code="330212", level="orange")
    session.add(group)
    session.flush()
    row = OutboxMessage(group_id=group.id, channel="email", target_id=1, address=to,
                        payload={**PAYLOAD, "group_id": group.id})
    session.add(row)
    session.commit()
    return row.id


def deliver(session, server: SmtpServer, **settings) -> OutboxMessage:
    """Queue one notice and deliver it through `server` (started and stopped here), logging in as
    warning-bot with TLS as the server offers it unless `settings` say otherwise."""
    row_id = queue_notice(session)
    server.start()
    try:
        tls = {"MAIL_USE_TLS": bool(server.cert) and not server.implicit_tls, "MAIL_USE_SSL": server.implicit_tls}
        login = {"MAIL_USERNAME": "warning-bot", "MAIL_PASSWORD": USERS["warning-bot"]}
        deliver_due(session, DeliverySettings.from_config(config(server.port, **{**tls, **login, **settings})),
                    now=utcnow())
    finally:
        server.stop()
    session.expire_all()
    return session.get(OutboxMessage, row_id)


TLS_MODES = pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit-tls"])


@TLS_MODES
def test_tls_with_authentication_delivers(db_session, certs, implicit):
    server = SmtpServer(cert=certs["good"], implicit_tls=implicit, users=USERS)
    row = deliver(db_session, server, MAIL_CA_FILE=str(certs["good"][0]))
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    [(recipients, message)] = server.messages
    assert recipients == ["chief@example.test"] and "鄞州区" in message.get_content()
    assert server.logins == ["warning-bot"], "the message was accepted in an authenticated session"


@TLS_MODES
def test_a_wrong_password_is_retried_not_lost(db_session, certs, implicit):
    server = SmtpServer(cert=certs["good"], implicit_tls=implicit, users=USERS)
    row = deliver(db_session, server, MAIL_CA_FILE=str(certs["good"][0]), MAIL_PASSWORD="wrong")
    assert row.status == "pending" and "SMTPAuthenticationError" in row.last_error
    assert server.messages == []


@TLS_MODES
@pytest.mark.parametrize("case", ["untrusted", "wrong-host"])
def test_a_certificate_that_does_not_verify_is_refused(db_session, certs, implicit, case):
    """Self-signed and not trusted; or trusted but issued to another host name."""
    cert = certs["good"] if case == "untrusted" else certs["other_host"]
    server = SmtpServer(cert=cert, implicit_tls=implicit, users=USERS)
    row = deliver(db_session, server, MAIL_CA_FILE="" if case == "untrusted" else str(cert[0]))
    assert row.status == "pending" and "SSLCertVerificationError" in row.last_error
    assert ("self-signed" if case == "untrusted" else "mismatch") in row.last_error
    assert server.messages == [] and server.logins == [], "no password was sent to an unverified server"


@TLS_MODES
def test_verification_off_accepts_the_untrusted_certificate(db_session, certs, implicit):
    server = SmtpServer(cert=certs["other_host"], implicit_tls=implicit, users=USERS)
    row = deliver(db_session, server, MAIL_TLS_VERIFY=False)
    assert row.status == "sent" and server.logins == ["warning-bot"]


def test_starttls_asked_of_a_server_without_it_fails_instead_of_sending_in_clear(db_session):
    row = deliver(db_session, server := SmtpServer(), MAIL_USE_TLS=True)  # the server offers no TLS
    assert row.status == "pending" and "STARTTLS" in row.last_error and server.messages == []


def test_the_settings_reach_the_delivery(app):
    settings = DeliverySettings.from_config({**app.config, "MAIL_USE_SSL": True, "MAIL_TLS_VERIFY": False,
                                             "MAIL_CA_FILE": "/etc/ca.pem"})
    assert (settings.mail_use_ssl, settings.mail_tls_verify, settings.mail_ca_file) == (True, False, "/etc/ca.pem")
    defaults = DeliverySettings.from_config(app.config)
    assert (defaults.mail_use_tls, defaults.mail_use_ssl, defaults.mail_tls_verify, defaults.mail_ca_file) == (
        False, False, True, None)
    assert mail.tls_context().verify_mode == ssl.CERT_REQUIRED and mail.tls_context().check_hostname
    assert mail.tls_context(verify=False).verify_mode == ssl.CERT_NONE


def test_an_email_gives_each_alerts_reason_or_else_its_probability_below_the_floor():
    # The reason names the months its probability is about; an alert without one (an old scan's)
    # still says what the figure is the chance of: below the floor, not of a batch failing.
    from warning.notify.mail import compose
    bare = {**PAYLOAD["alerts"][0], "reason_zh": ""}
    body = compose({**PAYLOAD, "alerts": [PAYLOAD["alerts"][0], bare]}, 1, "w@example.test",
                   "chief@example.test", "https://x").get_content()
    assert "   合格率下降\n" in body and "   今后几个月低于底线的概率为80%\n" in body and "不合格概率" not in body
    with_months = {**bare, "estimated_pass_rate": 0.9134, "floor": 0.93,
                   "forecast_months": {"from": "2024-07", "to": "2024-09"}}
    body = compose({**PAYLOAD, "alerts": [with_months]}, 1, "w@example.test", "c@example.test", "https://x").get_content()
    assert "   估计合格率91.3%，底线93%；2024年7月至2024年9月低于底线的概率为80%\n" in body
