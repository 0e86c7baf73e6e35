"""Organizers' pages: thin views over the services in app.manage (prisoners, facilities,
officials, dashboard, audit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from app.auth.permissions import login_required
from app.directory.services import parse_page
from app.domain import DomainError
from app.labels import FACILITY_KIND, OFFICIAL_KIND, PRISONER_STATUS
from app.manage import bp
from app.manage.audit import audit_entity_types, audit_page, entity_history
from app.manage.common import LIST_PER_PAGE
from app.manage.dashboard import dashboard
from app.manage.facilities import (
    create_facility,
    facility_choices,
    get_facility,
    known_regions,
    list_facilities,
    prisoners_in,
    update_facility,
)
from app.manage.facility_forms import FacilityForm
from app.manage.forms import (
    AUDIT_ACTIONS,
    AUDIT_BOOLEAN_FIELDS,
    AUDIT_FIELD_LABELS,
    AUDIT_VALUE_LABELS,
    ENTITY_TYPE_LABELS,
    today_iso,
)
from app.manage.official_forms import JURISDICTION, OfficialForm
from app.manage.officials import create_official, get_official, list_officials, update_official
from app.manage.prisoner_forms import PrisonerForm, TransferForm
from app.manage.prisoners import (
    computed_name_forms,
    create_prisoner,
    get_prisoner,
    inferred_gender,
    list_prisoners,
    transfer_prisoner,
    update_prisoner,
)
from app.models import Facility, Official, Prisoner
from app.refusals import show_on_form
from app.russian.names import Gender

Page = str | tuple[str, int] | Response
Result = TypeVar("Result")

_EDIT_ENDPOINTS = {
    "prisoner": ("manage.edit_prisoner", "prisoner_id"),
    "facility": ("manage.edit_facility", "facility_id"),
    "official": ("manage.edit_official", "official_id"),
}


@bp.context_processor
def _audit_helpers() -> dict[str, Any]:
    """Helpers the audit lists use to show entries readably."""
    return {
        "audit_field_label": lambda name: AUDIT_FIELD_LABELS.get(name, name),
        "audit_action_label": lambda action: AUDIT_ACTIONS.get(action, action),
        "audit_value": _audit_value,
        "entity_url": _entity_url,
        "entity_type_labels": ENTITY_TYPE_LABELS,
        "today_iso": today_iso(),
    }


def _entity_url(entity_type: str, entity_id: int | None) -> str | None:
    target = _EDIT_ENDPOINTS.get(entity_type)
    if target is None or entity_id is None:
        return None
    endpoint, argument = target
    values: dict[str, Any] = {argument: entity_id}  # url_for's own keywords start with "_"
    return url_for(endpoint, **values)


def _audit_value(entity_type: str, field: str, value: Any) -> str:
    """One old or new value as a person reads it: labels for codes, dashes for nothing."""
    if value is None or value == "" or value == {}:
        return "—"
    if field in AUDIT_BOOLEAN_FIELDS and isinstance(value, str):
        value = value.strip().lower() in ("true", "yes", "1", "да")  # as an import wrote it
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "; ".join(f"{key}: {item}" for key, item in value.items())
    tables: dict[str, Any] = {
        **AUDIT_VALUE_LABELS,
        "status": PRISONER_STATUS,
        "jurisdiction": JURISDICTION,
        "gender": {"m": _("male"), "f": _("female")},
        "kind": OFFICIAL_KIND if entity_type == "official" else FACILITY_KIND,
    }
    if field in tables and isinstance(value, str):
        return str(tables[field].get(value, value))
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def _submit(
    form: FlaskForm,
    show: Callable[[list[str] | None], str],
    save: Callable[[], Result],
    done: Callable[[Result], Response],
) -> Page:
    """The POST half of every form here: validate, save through the service (the request's
    edge commits), then ``done``; or show the form again (422), the service's errors on their
    fields."""
    if not form.validate():
        return show(None), 422
    try:
        result = save()
    except DomainError as error:
        return show(show_on_form(form, error)), 422
    return done(result)


def _saved(message: str, location: str) -> Response:
    flash(message, "success")
    return redirect(location)


def _edit_message(changes: dict[str, Any]) -> str:
    return _("Saved.") if changes else _("Nothing was changed.")


def _import_url() -> str:
    # The import feature may not be registered yet; its path is fixed, so fall back to it.
    try:
        return url_for("imports.index")
    except BuildError:
        return "/manage/import/"


# --- dashboard ------------------------------------------------------------------------------


@bp.get("/")
@bp.get("")
@login_required
def index() -> Page:
    """The organizers' start page: where to go, and what needs attention."""
    return render_template(
        "manage/index.html",
        board=dashboard(current_user),
        import_url=_import_url(),
    )


# --- prisoners ------------------------------------------------------------------------------


@bp.get("/prisoners")
@login_required
def prisoners() -> Page:
    """Prisoners by name, searchable, with links to edit and transfer."""
    query = (request.args.get("q") or "").strip()[:200]
    try:
        page = parse_page(request.args.get("page"))
    except DomainError:
        abort(400)
    results = list_prisoners(current_user, query, page, LIST_PER_PAGE)
    return render_template("manage/prisoners.html", results=results, query=query)


def _prisoner_page(
    form: PrisonerForm, prisoner: Prisoner | None, loose_errors: list[str] | None = None
) -> str:
    # Shown also when the form was refused: a gender that is not one of the choices is none.
    gender = Gender(form.gender.data) if form.gender.data in set(Gender) else None
    first, patronymic = form.first_name.data or "", form.patronymic.data or None
    return render_template(
        "manage/prisoner_form.html",
        form=form,
        prisoner=prisoner,
        computed=computed_name_forms(form.last_name.data or "", first, patronymic, gender),
        inferred_gender=inferred_gender(first, patronymic),
        history=entity_history(current_user, "prisoner", prisoner.id) if prisoner else None,
        loose_errors=loose_errors or [],
    )


@bp.route("/prisoners/new", methods=["GET", "POST"])
@login_required
def new_prisoner() -> Page:
    """Add a prisoner with where they are now."""
    form = PrisonerForm(facilities=facility_choices(current_user), creating=True)
    if request.method == "GET":
        return _prisoner_page(form, None)
    return _submit(
        form,
        lambda loose: _prisoner_page(form, None, loose),
        lambda: create_prisoner(current_user, form.to_data(), form.placement_data()),
        lambda prisoner: _saved(
            _("Added %(name)s.", name=prisoner.full_name),
            url_for("manage.edit_prisoner", prisoner_id=prisoner.id),
        ),
    )


@bp.route("/prisoners/<int:prisoner_id>/edit", methods=["GET", "POST"])
@login_required
def edit_prisoner(prisoner_id: int) -> Page:
    """Edit a prisoner's data and declined name forms; shows the record's recent history."""
    prisoner = get_prisoner(current_user, prisoner_id) or abort(404)
    form = PrisonerForm()
    if request.method == "GET":
        form.fill_from(prisoner)
        return _prisoner_page(form, prisoner)
    return _submit(
        form,
        lambda loose: _prisoner_page(form, prisoner, loose),
        lambda: update_prisoner(current_user, prisoner, form.to_data()),
        lambda changes: _saved(
            _edit_message(changes), url_for("manage.edit_prisoner", prisoner_id=prisoner.id)
        ),
    )


@bp.route("/prisoners/<int:prisoner_id>/transfer", methods=["GET", "POST"])
@login_required
def transfer(prisoner_id: int) -> Page:
    """Record a move to another facility, or into transit with whereabouts unknown."""
    prisoner = get_prisoner(current_user, prisoner_id) or abort(404)
    form = TransferForm(facilities=facility_choices(current_user))

    def page(loose: list[str] | None = None) -> str:
        return render_template(
            "manage/transfer.html",
            form=form,
            prisoner=prisoner,
            current=prisoner.current_placement,
            loose_errors=loose or [],
        )

    if request.method == "GET":
        return page()
    return _submit(
        form,
        page,
        lambda: transfer_prisoner(current_user, prisoner, form.to_data()),
        lambda _placement: _saved(
            _("The transfer is recorded."),
            url_for("manage.edit_prisoner", prisoner_id=prisoner.id),
        ),
    )


# --- facilities -----------------------------------------------------------------------------


@bp.get("/facilities")
@login_required
def facilities() -> Page:
    """Facilities with how many prisoners are there now."""
    query = (request.args.get("q") or "").strip()[:200]
    try:
        page = parse_page(request.args.get("page"))
    except DomainError:
        abort(400)
    results = list_facilities(current_user, query, page)
    return render_template("manage/facilities.html", results=results, query=query)


def _facility_page(
    form: FacilityForm, facility: Facility | None, loose: list[str] | None = None
) -> str:
    return render_template(
        "manage/facility_form.html",
        form=form,
        facility=facility,
        regions=known_regions(current_user),
        prisoners=prisoners_in(current_user, facility) if facility else [],
        history=entity_history(current_user, "facility", facility.id) if facility else None,
        loose_errors=loose or [],
    )


@bp.route("/facilities/new", methods=["GET", "POST"])
@login_required
def new_facility() -> Page:
    """Add a facility."""
    form = FacilityForm()
    if request.method == "GET":
        return _facility_page(form, None)
    return _submit(
        form,
        lambda loose: _facility_page(form, None, loose),
        lambda: create_facility(current_user, form.to_data()),
        lambda facility: _saved(
            _("Added %(name)s.", name=facility.code),
            url_for("manage.edit_facility", facility_id=facility.id),
        ),
    )


@bp.route("/facilities/<int:facility_id>/edit", methods=["GET", "POST"])
@login_required
def edit_facility(facility_id: int) -> Page:
    """Edit a facility; shows who is there now and the record's recent history."""
    facility = get_facility(current_user, facility_id) or abort(404)
    form = FacilityForm()
    if request.method == "GET":
        form.fill_from(facility)
        return _facility_page(form, facility)
    return _submit(
        form,
        lambda loose: _facility_page(form, facility, loose),
        lambda: update_facility(current_user, facility, form.to_data()),
        lambda changes: _saved(
            _edit_message(changes), url_for("manage.edit_facility", facility_id=facility.id)
        ),
    )


# --- officials ------------------------------------------------------------------------------


@bp.get("/officials")
@login_required
def officials() -> Page:
    """Addressees of appeals."""
    query = (request.args.get("q") or "").strip()[:200]
    try:
        page = parse_page(request.args.get("page"))
    except DomainError:
        abort(400)
    results = list_officials(current_user, query, page)
    return render_template("manage/officials.html", results=results, query=query)


def _official_page(
    form: OfficialForm, official: Official | None, loose: list[str] | None = None
) -> str:
    return render_template(
        "manage/official_form.html",
        form=form,
        official=official,
        regions=known_regions(current_user),
        history=entity_history(current_user, "official", official.id) if official else None,
        loose_errors=loose or [],
    )


@bp.route("/officials/new", methods=["GET", "POST"])
@login_required
def new_official() -> Page:
    """Add an official."""
    form = OfficialForm(facilities=facility_choices(current_user))
    if request.method == "GET":
        return _official_page(form, None)
    return _submit(
        form,
        lambda loose: _official_page(form, None, loose),
        lambda: create_official(current_user, form.to_data()),
        lambda official: _saved(
            _("Added %(name)s.", name=official.position),
            url_for("manage.edit_official", official_id=official.id),
        ),
    )


@bp.route("/officials/<int:official_id>/edit", methods=["GET", "POST"])
@login_required
def edit_official(official_id: int) -> Page:
    """Edit an official; shows the record's recent history."""
    official = get_official(current_user, official_id) or abort(404)
    form = OfficialForm(facilities=facility_choices(current_user))
    if request.method == "GET":
        form.fill_from(official)
        return _official_page(form, official)
    return _submit(
        form,
        lambda loose: _official_page(form, official, loose),
        lambda: update_official(current_user, official, form.to_data()),
        lambda changes: _saved(
            _edit_message(changes), url_for("manage.edit_official", official_id=official.id)
        ),
    )


# --- audit trail ----------------------------------------------------------------------------


@bp.get("/audit")
@login_required
def audit_trail() -> Page:
    """Every change, newest first, optionally of one kind of record."""
    types = audit_entity_types(current_user)
    entity_type = request.args.get("type") or ""
    try:
        page = parse_page(request.args.get("page"))
    except DomainError:
        abort(400)
    if entity_type and entity_type not in types:
        abort(400)
    results = audit_page(current_user, entity_type or None, page)
    return render_template(
        "manage/audit.html", results=results, types=types, entity_type=entity_type
    )
