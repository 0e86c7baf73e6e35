"""The daily digest to translators: how many translations wait in their languages, per
language pair. Content-neutral (counts only: no names, no text) and opt-out, through the
outbox."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.mail.services import email_language, external_url, queue_email
from app.models import Role, Translation, User
from app.translation.desk import _claimable

_SALT = "translation-digest-opt-out"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def opt_out_token(user: User) -> str:
    """The one-click opt-out link's token: the account, signed (nothing stored)."""
    return str(_signer().dumps(user.id))


def user_for_opt_out(token: str) -> User | None:
    """The account an opt-out token names, or None for a forged or broken one."""
    try:
        user_id = _signer().loads(token)
    except BadSignature:
        return None
    return db.session.get(User, user_id) if isinstance(user_id, int) else None


def open_counts(now: datetime) -> dict[tuple[str, str], int]:
    """Open translations (and those whose claim ran out), by (from, into)."""
    rows = db.session.execute(
        select(Translation.source_language, Translation.target_language, func.count())
        .where(_claimable(now))  # type: ignore[arg-type]
        .group_by(Translation.source_language, Translation.target_language)
    )
    return {(source, target): count for source, target, count in rows}


def send_translator_digest(now: datetime) -> int:
    """Queue the digest to every active translator who wants it and has open work in their
    languages; returns how many were queued."""
    counts = open_counts(now)
    if not counts:
        return 0
    translators = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role == Role.TRANSLATOR, User.wants_digest.is_(True))
        .order_by(User.id)
    ).all()
    queued = 0
    for user in translators:
        theirs = sorted(
            (source, target, count)
            for (source, target), count in counts.items()
            if source in user.source_languages and target in user.target_languages
        )
        if not theirs:
            continue
        opt_out_url = external_url("translation.digest_opt_out", token=opt_out_token(user))
        context = {
            "pairs": theirs,
            "desk_url": external_url("translation.queue"),
            "opt_out_url": opt_out_url,
        }
        queue_email(
            user.email,
            "translation_digest",
            context,
            email_language(None),
            unsubscribe_url=opt_out_url,
        )
        queued += 1
    return queued
