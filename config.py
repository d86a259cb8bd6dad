"""Settings classes. Every value can be overridden by an environment variable of the same name.

Nothing is read from the environment at import time: `create_app` calls `Config.load()`.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any


class Config:
    SECRET_KEY: str | None = None
    # DATABASE_URL is the operator-facing name; it fills SQLALCHEMY_DATABASE_URI.
    DATABASE_URL: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # A pooled connection unused this long is tested before use (core/database.ping_when_idle).
    DB_PING_IDLE_SECONDS = 10.0
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # A read replica for the pass-rate statistics (core/replica.py); empty: the primary.
    STATS_DATABASE_URL: str | None = None
    REPLICA_CONNECT_SECONDS = 3  # PostgreSQL connect timeout for the replica
    REPLICA_RETRY_SECONDS = 30.0  # after a failed connection, read the primary this long
    TIMEZONE = "Asia/Shanghai"

    # REST API / OpenAPI (flask-smorest)
    API_TITLE = "Supervisory sampling inspection API"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    # The docs page is our own (core/docs.py): local assets, no inline script (CSP).
    OPENAPI_SWAGGER_UI_PATH = None

    # Accounts and web sessions
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (served over TLS)
    REMEMBER_COOKIE_DURATION = 0  # no "remember me": sessions end with their expiry
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 10
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    # Reverse proxies in front that set X-Forwarded-For and X-Forwarded-Proto (1: nginx before
    # gunicorn). 0 believes neither header: the connection's address is the client's.
    TRUSTED_PROXY_HOPS = 0
    RATELIMIT_STORAGE_URI = "memory://"  # per process; point it at Redis for several hosts
    WTF_CSRF_CHECK_DEFAULT = False  # checked on every web form, not on the token-based /api
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Bulk import
    IMPORT_MAX_BYTES = 64 * 1024 * 1024
    # Uploads larger than this are queued as a job for `flask worker` (202 + job URL).
    IMPORT_ASYNC_BYTES = 2 * 1024 * 1024
    IMPORT_MAX_ROWS = 1_000_000
    # Files from this size on (about 4,000 rows) are parsed in a forked child process on the
    # second core while the import writes; below it, forking costs more than it saves. -1 = never.
    IMPORT_PARALLEL_BYTES = 1_000_000
    # Batch list downloads (GET /api/batches/export, the list page's links): more matching
    # batches than this are refused (422), never cut short; the file is built in memory.
    BATCH_EXPORT_MAX_ROWS = 50_000
    # Request bodies beyond this are refused by Werkzeug before any parsing.
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024 + 64 * 1024

    # `flask backup` / `flask restore` on PostgreSQL: where pg_dump and pg_restore are, when not
    # in /usr/lib/postgresql/<server major>/bin (empty: that folder, then PATH).
    PG_BIN_DIR = ""
    # Early warning: where scans keep the month's risk model (default: instance/warning-models)
    WARNING_MODEL_DIR: str | None = None

    # Worker
    WORKER_JOB_POLL_SECONDS = 2.0
    WORKER_JOB_STALE_SECONDS = 3600
    # A scan's lease: a scan killed midway blocks the next one this long; longer than any scan.
    SCAN_LEASE_SECONDS = 3600.0

    # Follow-ups (README "Follow-ups"): deadlines from the rules, credit score and blacklist rules.
    FOLLOWUP_DISPOSAL_MONTHS = 3  # a failed batch's disposal is due 3 months after its report
    FOLLOWUP_DISPOSAL_DUE_DAYS = 14  # "due soon" window
    FOLLOWUP_RETEST_WORKING_DAYS = 7  # retest application window after the producer is told
    FOLLOWUP_FOOD_RECALL_START_HOURS = {"I": 24, "II": 48, "III": 72}
    FOLLOWUP_FOOD_RECALL_COMPLETE_WORKING_DAYS = {"I": 10, "II": 20, "III": 30}
    FOLLOWUP_DRUG_RECALL_NOTIFY_DAYS = {"I": 1, "II": 3, "III": 7}
    FOLLOWUP_CREDIT_SEVERITY_WEIGHTS = {"minor": 5.0, "general": 10.0, "serious": 25.0}
    FOLLOWUP_CREDIT_HALF_LIFE_DAYS = 365
    FOLLOWUP_CREDIT_WINDOW_MONTHS = 36
    FOLLOWUP_CREDIT_RECALL_WEIGHTS = {"I": 15.0, "II": 10.0, "III": 5.0}
    FOLLOWUP_CREDIT_TRACEABILITY_WEIGHT = 2.0
    FOLLOWUP_CREDIT_OVERDUE_WEIGHT = 10.0
    FOLLOWUP_CREDIT_RETEST_CONFIRMED_WEIGHT = 0.0
    FOLLOWUP_CREDIT_GRADES = {"A": 90.0, "B": 75.0, "C": 60.0}  # lowest score of each grade; below: D
    FOLLOWUP_BLACKLIST_SERIOUS_FAILURES = 2
    FOLLOWUP_BLACKLIST_WINDOW_MONTHS = 12
    FOLLOWUP_REFUSAL_PATTERNS = ["拒绝抽样", "拒绝检查", "refused sampling"]  # in a batch's fail_reason
    FOLLOWUP_PLAN_THIN_BATCHES = 20  # fewer batches in 12 months: an uncertain series
    FOLLOWUP_PLAN_WEIGHTS = {"warning": 1.0, "uncertainty": 0.5, "credit": 0.8}
    # Alerts and notifications (README "Alerts and notifications")
    ALERT_DISMISS_SNOOZE_DAYS = 90.0  # a dismissal holds this long unless the level rises
    BASE_URL = "http://localhost:8000"  # links in notices: BASE_URL + /alerts/<id>
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_FROM = "warning@localhost"
    MAIL_USE_TLS = False  # STARTTLS on a plain connection (usually port 587)
    MAIL_USE_SSL = False  # implicit TLS from the first byte (usually port 465)
    MAIL_TLS_VERIFY = True  # refuse a server certificate that does not verify (False: encrypt only)
    MAIL_CA_FILE = ""  # a PEM bundle trusted instead of the system's (e.g. an internal CA)
    WEBHOOK_SECRET_KEYS = ""  # Fernet keys, comma-separated, first encrypts; empty: derived from SECRET_KEY
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    NOTIFY_POLL_SECONDS = 30.0  # how often the worker delivers the outbox
    NOTIFY_TIMEOUT_SECONDS = 10.0  # per SMTP or webhook connection
    NOTIFY_BACKOFF_SECONDS = 60.0  # first retry; doubles per failure ...
    NOTIFY_BACKOFF_MAX_SECONDS = 3600.0  # ... up to this
    NOTIFY_MAX_ATTEMPTS = 12  # about 6 hours of retries before a notice is marked failed
    NOTIFY_STALE_SECONDS = 600.0  # a notice left "sending" this long (worker died) is resent

    # /metrics (Prometheus) answers only a scraper sending this as a bearer token; empty: off (404)
    METRICS_TOKEN = ""

    TESTING = False
    DEBUG = False

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Return this class's settings, overlaid by the environment, then by `overrides`."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        for key, default in list(values.items()):
            raw = os.environ.get(key)
            if raw is not None:
                values[key] = _coerce(raw, default)
        values.update(overrides or {})
        values["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(
            values.get("DATABASE_URL") or cls.default_database_url()
        )
        values["STATS_DATABASE_URL"] = _normalise_db_url(values.get("STATS_DATABASE_URL") or None)
        _check_webhook_keys(values.get("WEBHOOK_SECRET_KEYS") or "")
        cls.validate(values)
        return values

    @classmethod
    def default_database_url(cls) -> str | None:
        return None  # the factory fills in SQLite in the instance folder

    @classmethod
    def validate(cls, values: dict[str, Any]) -> None:
        pass


class DevelopmentConfig(Config):
    SECRET_KEY = "dev-only-not-secret"
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"
    # Small thresholds so the tests exercise the queued-import path with small files.
    IMPORT_ASYNC_BYTES = 64 * 1024


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    @classmethod
    def validate(cls, values: dict[str, Any]) -> None:
        missing = [k for k in ("SECRET_KEY", "DATABASE_URL") if not values.get(k)]
        if missing:
            raise RuntimeError(f"production config refuses to start without {', '.join(missing)}")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def _check_webhook_keys(raw: str) -> None:
    """Refuse to start with a WEBHOOK_SECRET_KEYS entry that is not a Fernet key (32 bytes, url-safe
    base64), rather than fail at the first webhook."""
    for key in filter(None, (k.strip() for k in raw.split(","))):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise RuntimeError("WEBHOOK_SECRET_KEYS: each key must be 32 url-safe base64-encoded bytes "
                               "(make one with `flask warning webhook-key --new`)")


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (dict, list)):
        return json.loads(raw)
    return raw


def _normalise_db_url(url: str | None) -> str | None:
    # psycopg 3 is the driver; accept the plain postgres URLs operators paste in.
    if url and url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url
