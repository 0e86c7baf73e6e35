"""Input the API's schemas refuse, as the one domain error (`app.domain.DomainError`).

The API answers every refusal through `app.refusals.json_refusal`, as
``{"error": "invalid", "field", "message"}``: the services' refusals, and those of the
schemas, turned into the same error here with a message in the reader's language (pydantic's
own messages are English only).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from app.domain import DomainError

BODY = "body"  # the field named when the body as a whole is wrong


def not_a_json_object() -> DomainError:
    """The body is missing, is not JSON, or is JSON but not an object."""
    return DomainError(BODY, _("Send a JSON object."))


def not_a_form() -> DomainError:
    """The body of an upload is not multipart/form-data."""
    return DomainError(BODY, _("Send the files as multipart/form-data."))


def refused_input(error: ValidationError, model: type[BaseModel]) -> DomainError:
    """The first problem pydantic found, as a field error in the reader's language.

    Pydantic lists problems in the order the model declares its fields, which is the order
    the hand-written checks ran in before.
    """
    details = error.errors()[0]
    if not details["loc"]:
        return not_a_json_object()
    name = str(details["loc"][0])
    return DomainError(name, _message(name, details, model))


def _message(name: str, details: ErrorDetails, model: type[BaseModel]) -> object:
    """The message for one problem pydantic found (DomainError makes it a string)."""
    kind = details["type"]
    if kind == "missing":
        return _("%(name)s is required", name=name)
    if kind == "string_type":
        return _("%(name)s must be a string", name=name)
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("%(name)s must be a whole number", name=name)
    if kind in {"enum", "literal_error"}:
        allowed = ", ".join(_allowed_values(model, name))
        return _("%(name)s must be one of: %(allowed)s", name=name, allowed=allowed)
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        return _("%(name)s is out of range", name=name)
    if kind == "string_too_long":
        return _("%(name)s is too long", name=name)
    if kind == "iso_date":
        return _("date must be a real date written YYYY-MM-DD")
    return _("%(name)s is not valid", name=name)


@cache
def _allowed_values(model: type[BaseModel], name: str) -> tuple[str, ...]:
    """The values a field of ``model`` may take, read from its JSON schema."""
    schema = model.model_json_schema(by_alias=True)
    found: list[str] = []

    def collect(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            collect(schema["$defs"][node["$ref"].rsplit("/", 1)[-1]])
        found.extend(str(value) for value in node.get("enum", ()))
        if "const" in node:
            found.append(str(node["const"]))
        for option in node.get("anyOf", ()):
            collect(option)

    collect(schema["properties"].get(name))
    return tuple(found)
