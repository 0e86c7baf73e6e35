"""Personal API tokens: bearer credentials for scripts and scanning stations.

A token is shown once, when it is made; the database keeps only its keyed hash (as for every
long-lived link), so a copy of the database holds no usable token. A token acts as its account
(with the account's role), until it is revoked or the account is deactivated.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.domain import DomainError
from app.extensions import db
from app.models import ApiToken, Role, User
from app.models.base import utcnow
from app.privacy.instance import link_hash
from app.tokens import looks_like_token, new_tracking_token

#: The purpose API tokens are hashed for (`app.privacy.instance.link_hash`).
API_TOKEN_PURPOSE = "api-token"  # noqa: S105 (a label for the hash, not a secret)
#: Who may hold a token: the accounts that have work for scripts (the mailroom, organizers).
ROLES_WITH_TOKENS = frozenset({Role.ORGANIZER, Role.ADMIN, Role.MAILROOM, Role.TRANSLATOR})
#: Tokens start with this, so that a leaked one is recognisable (e.g. by secret scanners).
TOKEN_PREFIX = "kvt_"  # noqa: S105 (a visible prefix, not a secret)
MAX_LABEL_LENGTH = 100


class TokenNotAllowed(Exception):
    """The account's role has no use for API tokens."""


def create_api_token(user: User, label: str) -> tuple[ApiToken, str]:
    """A new token for ``user`` (added to the session) and its raw value, shown only now.

    The label says where the token is used (a scanning station, a script), so that its owner
    knows which one to revoke; it is required."""
    if user.role not in ROLES_WITH_TOKENS:
        raise TokenNotAllowed(user.role)
    label = label.strip()
    if not label:
        raise DomainError("label", _l("Give the token a label, such as where it will be used."))
    if len(label) > MAX_LABEL_LENGTH:
        raise DomainError(
            "label", _l("Use at most %(num)d characters for the label.", num=MAX_LABEL_LENGTH)
        )
    raw = TOKEN_PREFIX + new_tracking_token()
    token = ApiToken(
        user=user,
        label=label,
        token_hash=link_hash(raw, API_TOKEN_PURPOSE),
    )
    db.session.add(token)
    return token, raw


def active_tokens(user: User) -> list[ApiToken]:
    """The account's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(user: User, token_id: int, now: datetime | None = None) -> ApiToken | None:
    """Revoke one of the account's own tokens and return it; None when it has no such active
    token (someone else's token is as unknown as one that never existed)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return None
    token.revoked_at = now or utcnow()
    return token


def bearer_value(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    return value or None


def user_for_token(raw: str, *, record_use: bool, today: date | None = None) -> User | None:
    """The active account a token belongs to, or None (unknown, revoked, deactivated).

    With ``record_use`` (requests that change something), records the day of use, once a
    day. Requests that only read never write, not even this: a script that only reads shows
    as unused, which the account page says.
    """
    if not raw.startswith(TOKEN_PREFIX) or not looks_like_token(raw[len(TOKEN_PREFIX) :]):
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == link_hash(raw, API_TOKEN_PURPOSE))
    )
    if token is None or not token.is_active or not token.user.is_active:
        return None
    day = today or date.today()
    if record_use and token.last_used_on != day:
        token.last_used_on = day
    return token.user
