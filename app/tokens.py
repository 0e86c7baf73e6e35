"""Private tracking tokens: the only credential a supporter holds for their letter."""

from __future__ import annotations

import re
import secrets

TOKEN_BYTES = 32  # 256 bits: far beyond guessing
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_tracking_token() -> str:
    """A new URL-safe token with 256 bits of randomness."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any database lookup."""
    return bool(TOKEN_PATTERN.match(value))
