"""Real local receivers for the notification tests: an SMTP server (aiosmtpd, optionally with
TLS and authentication) and a webhook."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import ssl
import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_certificate(directory: Path, names: tuple[str, ...] = ("localhost",),
                            ips: tuple[str, ...] = ("127.0.0.1",)) -> tuple[Path, Path]:
    """A fresh key and self-signed certificate for `names` and `ips` (PEM files in `directory`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / f"{names[0]}.crt", directory / f"{names[0]}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class SmtpServer:
    """An SMTP server on a fixed localhost port that can be stopped and started again.

    With `cert`: STARTTLS offered (or, with `implicit_tls`, TLS from the first byte); with
    `users`: AUTH required (only over TLS), checked against {login: password}."""

    def __init__(self, cert: tuple[Path, Path] | None = None, implicit_tls: bool = False,
                 users: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.messages: list = []  # (envelope recipients, parsed message)
        self.logins: list[str] = []  # the login of each accepted message's session
        self.cert, self.implicit_tls, self.users = cert, implicit_tls, users
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        if session.authenticated:
            self.logins.append(session.auth_data.decode())
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        login, password = auth_data.login.decode(), auth_data.password.decode()
        # handled=False: aiosmtpd answers a refusal itself (535)
        return AuthResult(success=self.users.get(login) == password, handled=False, auth_data=login.encode())

    def start(self) -> "SmtpServer":
        options: dict = {}
        if self.cert:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.cert))
            # aiosmtpd counts only STARTTLS as TLS for AUTH: on an implicit-TLS port it is TLS already.
            options = ({"ssl_context": context, "auth_require_tls": False} if self.implicit_tls
                       else {"tls_context": context, "require_starttls": True})
        if self.users is not None:
            options |= {"authenticator": self._authenticate, "auth_required": True}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class WebhookReceiver:
    """An HTTP server that checks each POST's signature and answers from a scripted list."""

    def __init__(self, secret: str, statuses: list[int] | None = None) -> None:
        self.secret = secret
        self.statuses = list(statuses or [])  # answered in turn; 200 once exhausted
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                timestamp = self.headers["X-Timestamp"]
                expected = "sha256=" + hmac.new(receiver.secret.encode(), timestamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append({
                    "verified": hmac.compare_digest(expected, self.headers["X-Signature"]),
                    "delivery_id": self.headers["X-Delivery-Id"], "timestamp": int(timestamp),
                    "json": json.loads(body), "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
