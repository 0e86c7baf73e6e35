"""One-click unsubscribing from the mail program (RFC 8058).

Emails that belong to a subscription carry ``List-Unsubscribe: <link>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (app.mail.delivery). A mail program that
offers "Unsubscribe" then POSTs ``List-Unsubscribe=One-Click`` to the link, without the page
and so without its CSRF token. The link's token is the credential, as for the page's button:
a forged request from another site would have to know it. A GET still only shows the button
(link scanners open every link).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask_wtf import FlaskForm

from app.extensions import csrf

View = TypeVar("View", bound=Callable[..., Any])

#: The body a mail program posts (RFC 8058, section 3.1).
ONE_CLICK = ("List-Unsubscribe", "One-Click")


def accepts_one_click(view: View) -> View:
    """Let ``view`` take a mail program's one-click POST, which has no CSRF token: the view
    checks the token itself through `confirmed`."""
    return csrf.exempt(view)


def confirmed(form: FlaskForm) -> bool:
    """True for a mail program's one-click POST, or for the page's button with its valid CSRF
    token (``form``)."""
    name, value = ONE_CLICK
    if request.form.get(name) == value:
        return True
    return bool(form.validate())
