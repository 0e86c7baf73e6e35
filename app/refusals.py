"""How a service's refusal (`app.domain.DomainError`) reaches people: beside the fields of
the form they sent, as a message on the page they are sent back to, or as the API's JSON.

A refused action keeps nothing: each helper rolls the session back at once, so that the page
shown next reflects what is stored, not what the service had begun to change.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, flash, jsonify
from flask_wtf import FlaskForm

from app.domain import DomainError
from app.extensions import db


def show_on_form(
    form: FlaskForm, error: DomainError, aliases: Mapping[str, str] | None = None
) -> list[str]:
    """Put each message beside its field; return those of fields the form does not have,
    for the page to show above the form.

    ``aliases`` names the form field for a service field called otherwise (the API's "date"
    is a form's "happened_on").
    """
    db.session.rollback()
    loose: list[str] = []
    for field, message in error.errors.items():
        name = (aliases or {}).get(field, field)
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            loose.append(message)
    return loose


def flash_refusal(error: DomainError) -> None:
    """Show every message on the next page (for actions that redirect back)."""
    db.session.rollback()
    for message in error.errors.values():
        flash(message, "warning")


def json_refusal(error: DomainError, status: int = 422) -> tuple[Response, int]:
    """The API's answer: ``{"error", "field", "message"}`` for the first field refused."""
    db.session.rollback()
    return jsonify(error="invalid", field=error.field, message=error.message), status
