"""One's own account: who one is, the password, and personal API tokens (thin views over
app.auth.api_tokens)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.api_tokens import (
    ROLES_WITH_TOKENS,
    TokenNotAllowed,
    active_tokens,
    create_api_token,
    revoke_api_token,
)
from app.auth.forms import ROLE_LABELS, ApiTokenForm, RevokeTokenForm
from app.auth.navigation import mailroom_url
from app.auth.permissions import logged_in_user, login_required
from app.domain import DomainError
from app.models import ApiToken
from app.refusals import show_on_form

# The navigation of every page links to the mailroom (for those who may use it).
bp.add_app_template_global(mailroom_url)


def _account_page(
    form: ApiTokenForm, created: tuple[ApiToken, str] | None = None, loose: list[str] | None = None
) -> str:
    user = logged_in_user()
    may_hold_tokens = user.role in ROLES_WITH_TOKENS
    return render_template(
        "auth/account.html",
        user=user,
        role_label=ROLE_LABELS[user.role],
        may_hold_tokens=may_hold_tokens,
        tokens=active_tokens(user) if may_hold_tokens else [],
        form=form,
        revoke_form=RevokeTokenForm(formdata=None),
        created=created,
        loose=loose or [],
    )


@bp.get("/account")
@login_required
def account() -> str:
    """One's account: email, name, role, the password, and personal API tokens."""
    return _account_page(ApiTokenForm(formdata=None))


@bp.post("/account/tokens")
@login_required
def create_token() -> str | tuple[str, int]:
    """Make a personal API token and show it, this once, on the page (never in a redirect:
    it would pass through the session cookie)."""
    form = ApiTokenForm()
    try:
        token, raw = create_api_token(logged_in_user(), form.label.data or "")
    except TokenNotAllowed:
        abort(403)
    except DomainError as error:
        return _account_page(form, loose=show_on_form(form, error)), 422
    return _account_page(ApiTokenForm(formdata=None), created=(token, raw))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    """Revoke one of one's own tokens: it stops working at once."""
    token = revoke_api_token(logged_in_user(), token_id) or abort(404)
    flash(_("The token “%(label)s” is revoked: it no longer works.", label=token.label), "success")
    return redirect(url_for("auth.account"))
