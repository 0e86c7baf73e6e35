"""One-time login links sent by email: the way in that nobody else can block.

Wrong passwords are counted per account (app/auth/routes.py), so anyone who knows an
organizer's address can lock their password login for an hour. The owner then asks for a link
on the login page; it arrives at the account's address, logs in once, and expires after
LOGIN_LINK_MINUTES. Only a keyed hash of it is stored.

How requests for links are bounded, and why this bound cannot lock the owner out in turn:

- No per-account counter refuses requests. Anyone can fill such a counter, and then the owner
  would be refused exactly when they need the link.
- Instead, no new link is made while the account already has LOGIN_LINK_MAX_OPEN links that
  are unused and unexpired. So whenever a request sends nothing for this reason, that many
  working links are already in the owner's inbox (links made by an attacker's requests arrive
  there too, and only the owner can read them). At most LOGIN_LINK_MAX_OPEN emails go to an
  address in LOGIN_LINK_MINUTES, however many requests come.
- Requests are counted per requesting address (a keyed hash, like every public write), and
  not for the whole site: an attacker can use up only the budget of their own addresses.
- Using a link ends every other open link of the account.

The request page answers the same whether or not an account has the address.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from app.auth.services import LinkBuilder, LinkError, normalise_email
from app.extensions import db
from app.mail.services import queue_email
from app.models import LoginLink, User
from app.models.base import utcnow
from app.security import keyed_hash
from app.tokens import TOKEN_BYTES, looks_like_token


def request_login_link(email: str, link_for: LinkBuilder, language: str = "en") -> None:
    """Mail a one-time login link if an active account has this address and fewer than
    LOGIN_LINK_MAX_OPEN of its links are still open; otherwise do nothing.

    The caller answers the same either way.
    """
    user = db.session.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None or not user.active:
        return
    now = utcnow()
    db.session.execute(
        delete(LoginLink).where(LoginLink.user_id == user.id, LoginLink.expires_at <= now)
    )
    still_open = db.session.scalar(
        select(func.count())
        .select_from(LoginLink)
        .where(LoginLink.user_id == user.id, LoginLink.used_at.is_(None))
    )
    if (still_open or 0) >= int(current_app.config["LOGIN_LINK_MAX_OPEN"]):
        return  # the owner's inbox holds working links already
    minutes = int(current_app.config["LOGIN_LINK_MINUTES"])
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = LoginLink(
        user=user,
        token_hash=keyed_hash(token),
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(link)
    queue_email(
        user.email,
        "login_link",
        {"link": link_for(token), "expires_at": link.expires_at, "minutes": minutes},
        language,
    )


def find_login_link(token: str) -> LoginLink:
    """The open login link for a token; LinkError if it is unknown, used or expired."""
    if not looks_like_token(token):
        raise LinkError("unknown")
    found = db.session.scalars(
        select(LoginLink).where(LoginLink.token_hash == keyed_hash(token))
    ).first()
    if found is None or not found.user.active:
        raise LinkError("unknown")
    if found.used_at is not None:
        raise LinkError("used")
    if found.expires_at <= utcnow():
        raise LinkError("expired")
    return found


def use_login_link(token: str) -> User:
    """The account a login link opens; the link and every other open one stop working."""
    link = find_login_link(token)
    now = utcnow()
    db.session.execute(
        update(LoginLink)
        .where(LoginLink.user_id == link.user_id, LoginLink.used_at.is_(None))
        .values(used_at=now)
    )
    link.used_at = now
    return link.user
