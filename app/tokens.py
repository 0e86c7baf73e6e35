"""Private tracking tokens: the only credential a supporter holds for their letter."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

TOKEN_BYTES = 32  # 256 bits: far beyond guessing
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_tracking_token() -> str:
    """A new URL-safe token with 256 bits of randomness."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any database lookup."""
    return bool(TOKEN_PATTERN.match(value))


def keyed_hash(value: str, purpose: str) -> str:
    """What is stored instead of a bearer token (or counted instead of an address): an
    HMAC-SHA256 keyed with the secret key.

    A copy of the database alone then yields no usable link, and ``purpose`` keeps a token
    issued for one kind of link from matching another kind's hash.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    message = f"{purpose}:{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
