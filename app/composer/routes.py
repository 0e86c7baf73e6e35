"""The composer for letters to prisoners: a thin view over app.composer.views."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.composer import bp
from app.composer.views import compose
from app.directory.services import get_prisoner
from app.extensions import limiter
from app.security import public_write_limit


@bp.route("/prisoners/<int:prisoner_id>/write", methods=["GET", "POST"])
@limiter.limit(public_write_limit, methods=["POST"])
def write(prisoner_id: int) -> Response | str | tuple[str, int]:
    """Pick a template, edit, preview and save a letter."""
    prisoner = get_prisoner(prisoner_id) or abort(404)
    if not prisoner.can_receive_letters:
        flash(_("This person cannot receive letters now."), "warning")
        return redirect(url_for("directory.prisoner", prisoner_id=prisoner.id))
    return compose(prisoner, offer_mailroom=True)
