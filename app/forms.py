"""The base of every form: a field with an error tells screen readers so, and where it is said."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field

if TYPE_CHECKING:
    from _typeshed import SupportsItems


def error_id(field: Field) -> str:
    """The id of the element that shows ``field``'s errors (templates/macros.html)."""
    return f"{field.id}-error"


def with_error_attributes(field: Field, render_kw: SupportsItems[str, Any]) -> dict[str, Any]:
    """``render_kw`` with ``aria-invalid`` and the error message in ``aria-describedby``.

    A hint the template already names stays described first; the error is added once.
    """
    attributes = dict(render_kw.items())
    if not field.errors:
        return attributes
    # Templates write the attribute either way; WTForms turns aria_describedby into the other.
    named = [attributes.pop(key, None) for key in ("aria_describedby", "aria-describedby")]
    described = " ".join(str(ids) for ids in named if ids).split()
    if error_id(field) not in described:
        described.append(error_id(field))
    attributes["aria-describedby"] = " ".join(described)
    attributes.setdefault("aria-invalid", "true")
    return attributes


class Form(FlaskForm):
    """A FlaskForm whose fields, rendered with errors, point at their messages (WCAG 3.3.1)."""

    class Meta(FlaskForm.Meta):
        def render_field(self, field: Field, render_kw: SupportsItems[str, Any]) -> Markup:
            """Render ``field`` with the error attributes added to what the template asked."""
            return super().render_field(field, with_error_attributes(field, render_kw))
