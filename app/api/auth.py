"""Who calls the API with a personal token (`Authorization: Bearer …`), for the routes that
need an account: the mailroom's, for scanning stations and scripts."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, g, jsonify, request
from flask_babel import gettext as _

from app.auth.api_tokens import bearer_value, user_for_token
from app.auth.permissions import Actor, require_mailroom
from app.models import User

#: The OpenAPI security scheme the token routes declare.
BEARER_SCHEME = "bearerToken"
#: Where the request's account is kept once its token was checked (flask.g).
_ACCOUNT = "api_account"


def api_account(check: Callable[[Actor], User] = require_mailroom) -> User:
    """The account whose token the request presents, allowed by ``check``.

    No valid token: 401 with ``WWW-Authenticate: Bearer``; a token whose account may not do
    this: 403 (raised by ``check``).
    """
    if _ACCOUNT in g:  # already asked in this request (the operation's hook, then the view)
        return check(g.get(_ACCOUNT))
    raw = bearer_value(request)
    # Reads never write (not even the day a token was last used).
    changes = request.method not in ("GET", "HEAD", "OPTIONS")
    user = user_for_token(raw, record_use=changes) if raw else None
    if user is None:
        response = jsonify(
            error="unauthorized",
            message=_(
                "Send a valid personal API token in the header "
                "Authorization: Bearer <token>. Tokens are made on your account page."
            ),
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="konvert"'
        abort(response)
    setattr(g, _ACCOUNT, user)
    return check(user)
