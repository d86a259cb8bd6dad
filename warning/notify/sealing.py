"""Webhook secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256), keys from a setting.

Signing needs the secret itself, so it is encrypted (recoverable with the key), not hashed.
`WEBHOOK_SECRET_KEYS` holds Fernet keys separated by commas: the first encrypts, every one
decrypts. To rotate: put a new key first, run `flask warning rotate-webhook-secrets` (re-encrypts
every row with it), then drop the old key. Without the setting one key is derived from
SECRET_KEY (HKDF), so changing SECRET_KEY then needs the old derived key in WEBHOOK_SECRET_KEYS
(`flask warning webhook-key` prints it) until the rows are rotated.
"""
from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any, Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretUnreadable(RuntimeError):
    """A stored secret that none of the configured keys decrypts."""


def derived_key(secret_key: str) -> str:
    """The Fernet key derived from SECRET_KEY (the default of WEBHOOK_SECRET_KEYS)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"webhook-secrets").derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw).decode()


def keys_of(config: Mapping[str, Any]) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in (config.get("WEBHOOK_SECRET_KEYS") or "").split(",") if k.strip())
    return keys or (derived_key(config["SECRET_KEY"]),)


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])  # the keys were checked at startup (config.py)


def cipher(config: Mapping[str, Any] | None = None) -> MultiFernet:
    """The keys of `config` (default: the current app's) as one cipher."""
    if config is None:
        from flask import current_app

        config = current_app.config
    return _cipher(keys_of(config))


def seal(secret: str, config: Mapping[str, Any] | None = None) -> str:
    return cipher(config).encrypt(secret.encode()).decode()


def unseal(token: str, config: Mapping[str, Any] | None = None) -> str:
    try:
        return cipher(config).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no key in WEBHOOK_SECRET_KEYS decrypts this webhook's secret "
                               "(was a key removed before `flask warning rotate-webhook-secrets`?)") from None


def reseal(token: str, config: Mapping[str, Any] | None = None) -> str:
    """The same secret encrypted with the first key."""
    try:
        return cipher(config).rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("no key in WEBHOOK_SECRET_KEYS decrypts a stored webhook secret") from None
