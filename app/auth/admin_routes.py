"""The admin's page for the organisation's settings: name, return address, the mailroom and
its limits (a thin view over app.mailroom.settings)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.permissions import login_required
from app.domain import DomainError
from app.i18n import current_language
from app.mailroom.settings import (
    NUMBER_BOUNDS,
    OrganisationSettings,
    organisation_settings,
    update_organisation,
)
from app.mailroom.settings_form import OrganisationForm
from app.refusals import show_on_form


def _organisation_page(
    form: OrganisationForm, stored: OrganisationSettings, loose: list[str] | None = None
) -> str:
    return render_template(
        "auth/organisation.html",
        form=form,
        stored=stored,
        loose_errors=loose or [],
        bounds=NUMBER_BOUNDS,
    )


@bp.route("/admin/organisation", methods=["GET", "POST"])
@login_required
def organisation() -> str | tuple[str, int] | Response:
    """The organisation's settings; opening the mailroom needs a name and return address."""
    stored = organisation_settings(current_user)
    form = OrganisationForm(current_language())
    if request.method == "GET":
        form.fill_from(stored)
        return _organisation_page(form, stored)
    if not form.validate():
        return _organisation_page(form, stored), 422
    try:
        changes = update_organisation(current_user, form.to_settings())
    except DomainError as error:
        return _organisation_page(form, stored, show_on_form(form, error)), 422
    flash(_("Saved.") if changes else _("Nothing was changed."), "success")
    return redirect(url_for("auth.organisation"))
