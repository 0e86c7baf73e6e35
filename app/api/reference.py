"""The API reference page's content, read from the OpenAPI document in the reader's language.

The document is the one source: the page lists its operations, parameters, bodies, responses
and schemas. Its English texts are message ids (marked with ``N_`` where they are written),
so `gettext` finds their translations; types are spelled out in words of the reader's
language with links to the schemas they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

# A type as text to show: pieces of plain text, and schema names to link to.
TypePart = tuple[str, str | None]  # (text, name of the schema it links to, if any)


@dataclass(frozen=True)
class Field:
    """A parameter, a header or a property of a schema."""

    name: str
    location: str  # "path", "query", "header", or "" for a property
    type: list[TypePart]
    required: bool
    description: str


@dataclass(frozen=True)
class Reply:
    """One status an operation answers with."""

    status: str
    description: str
    body: list[TypePart]
    headers: list[Field]


@dataclass(frozen=True)
class Operation:
    """One operation: a method on a path."""

    id: str
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Field]
    body: list[TypePart]
    replies: list[Reply]


@dataclass(frozen=True)
class Section:
    """The operations under one tag."""

    id: str
    name: str
    description: str
    operations: list[Operation]


@dataclass(frozen=True)
class Schema:
    """A named schema: an object with properties, or a set of values."""

    name: str
    description: str
    fields: list[Field]
    values: list[str]


@dataclass(frozen=True)
class Reference:
    """Everything the reference page shows."""

    title: str
    version: str
    description: str
    sections: list[Section]
    schemas: list[Schema]


def _text(message: str | None) -> str:
    """A text of the document in the reader's language (English where it has no translation)."""
    return _(message) if message else ""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_parts(schema: dict[str, Any]) -> list[TypePart]:
    """A schema's type in words: "list of Facility", "integer, 1 to 100", "Channel or null"."""
    if "$ref" in schema:
        return [(_ref_name(schema["$ref"]), _ref_name(schema["$ref"]))]
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        parts: list[TypePart] = []
        for option in options:
            if parts:
                parts.append((" " + _("or") + " ", None))
            parts.extend(type_parts(option))
        if len(options) < len(schema["anyOf"]):
            parts.append((" " + _("or null"), None))
        return parts
    if "enum" in schema:
        values = ", ".join(str(value) for value in schema["enum"])
        return [(_("one of: %(values)s", values=values), None)]
    kind = schema.get("type")
    if kind == "array":
        return [(_("list of") + " ", None), *type_parts(schema.get("items", {}))]
    if kind == "object" and ("additionalProperties" in schema or "patternProperties" in schema):
        keys = schema.get("propertyNames")
        items: dict[str, Any] = schema.get("additionalProperties") or next(
            iter(schema.get("patternProperties", {}).values()), {}
        )
        key_parts = type_parts(keys) if keys else [(_("keys like YYYY-MM"), None)]
        return [
            (_("object") + " (", None),
            *key_parts,
            (" → ", None),
            *type_parts(items),
            (")", None),
        ]
    words = {
        "string": _("string"),
        "integer": _("integer"),
        "number": _("number"),
        "boolean": _("true or false"),
        "object": _("object"),
    }
    text = words.get(str(kind), str(kind or _("any")))
    if schema.get("format") == "date":
        text = _("date (YYYY-MM-DD)")
    if "pattern" in schema:
        text += " " + _("matching %(pattern)s", pattern=schema["pattern"])
    bounds = (schema.get("minimum"), schema.get("maximum"))
    if bounds != (None, None):
        text += ", " + _("%(low)s to %(high)s", low=bounds[0] or "…", high=bounds[1] or "…")
    if "maxLength" in schema:
        text += ", " + _("at most %(number)s characters", number=schema["maxLength"])
    return [(text, None)]


def _parameter(parameter: dict[str, Any]) -> Field:
    return Field(
        name=parameter["name"],
        location=parameter["in"],
        type=type_parts(parameter.get("schema", {})),
        required=bool(parameter.get("required")),
        description=_text(parameter.get("description")),
    )


def _body(content: dict[str, Any] | None) -> list[TypePart]:
    if not content:
        return []
    return type_parts(content.get("application/json", {}).get("schema", {}))


def _operation(path: str, method: str, details: dict[str, Any]) -> Operation:
    replies = [
        Reply(
            status=status,
            description=_text(reply.get("description")),
            body=_body(reply.get("content")),
            headers=[
                Field(
                    name,
                    "header",
                    type_parts(header.get("schema", {})),
                    False,
                    _text(header.get("description")),
                )
                for name, header in reply.get("headers", {}).items()
            ],
        )
        for status, reply in sorted(details["responses"].items())
    ]
    return Operation(
        id=details["operationId"],
        method=method.upper(),
        path=path,
        summary=_text(details.get("summary")),
        description=_text(details.get("description")),
        parameters=[_parameter(parameter) for parameter in details.get("parameters", [])],
        body=_body(details.get("requestBody", {}).get("content")),
        replies=replies,
    )


def _schema(name: str, schema: dict[str, Any]) -> Schema:
    required = set(schema.get("required", ()))
    return Schema(
        name=name,
        description=_text(schema.get("description")),
        fields=[
            Field(key, "", type_parts(value), key in required, _text(value.get("description")))
            for key, value in schema.get("properties", {}).items()
        ],
        values=[str(value) for value in schema.get("enum", ())],
    )


def reference_page(document: dict[str, Any]) -> Reference:
    """What the reference page shows of ``document``, in the current request's language.

    Operations appear under their first tag, in the document's order; schemas by name.
    """
    listed: dict[str, list[Operation]] = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, operations in document["paths"].items():
        for method, details in operations.items():
            listed.setdefault(details["tags"][0], []).append(_operation(path, method, details))
    descriptions = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    sections = [
        Section(f"tag-{number}", _text(name), _text(descriptions.get(name)), operations)
        for number, (name, operations) in enumerate(listed.items(), start=1)
        if operations
    ]
    schemas = [_schema(name, schema) for name, schema in document["components"]["schemas"].items()]
    return Reference(
        title=document["info"]["title"],
        version=document["info"]["version"],
        description=_text(document["info"].get("description")),
        sections=sections,
        schemas=sorted(schemas, key=lambda schema: schema.name),
    )
