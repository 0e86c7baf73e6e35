"""Validation of the API's input and its OpenAPI 3.1 document, from `schemas` and `responses`.

Why SpecTree (with pydantic v2). We compared three libraries on what this API needs:

- **SpecTree** decorates plain Flask views, validates query strings, JSON bodies and headers
  with pydantic models, can validate responses (we do in tests), and writes an OpenAPI
  **3.1.0** document whose schemas are pydantic's JSON Schema 2020-12. Its hooks let us
  answer refused input in our own shape and language, with a status per operation (400 for
  parameters, 422 for a report). Its browser UIs load from a CDN, but they are only page
  templates: we register none, and serve the document and our own reference page
  (templates/api/reference.html) ourselves. Maintained (3.0 in 2026), typed.
- **flask-openapi3** produces 3.1 too, but only through its own ``OpenAPI`` subclass of
  ``Flask`` that replaces the application class, and its UIs are plugins from a CDN.
- **apispec + marshmallow** can write 3.1, but apispec only builds documents: validation
  needs marshmallow (or webargs) wired by hand, paths are written out in docstrings or code,
  and its errors come as ``{field: [messages]}`` we would rewrite anyway.

What SpecTree cannot declare (response headers: the cache validators, the rate-limit headers)
and the operations' summaries (SpecTree reads docstrings, which pybabel cannot collect) are
added by `document` below, from what is given to `operation`. All texts of the document are
English, marked with ``N_`` so that the reference page shows them translated.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NoReturn, TypeVar

from flask import Request, abort, current_app
from markupsafe import escape
from pydantic import BaseModel, ValidationError
from spectree import Response as Responses
from spectree import SpecTree, Tag
from spectree.model_adapter.protocol import ModelAdapter
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from app.api.auth import BEARER_SCHEME, api_account
from app.api.errors import not_a_form, not_a_json_object, refused_input
from app.api.headers import CACHE_HEADERS, HEADER_SCHEMAS, RATE_LIMIT_HEADERS
from app.api.responses import FieldErrorBody, HttpErrorBody
from app.api.schemas import ENUM_DESCRIPTIONS, N_
from app.domain import DomainError
from app.refusals import json_refusal

View = TypeVar("View", bound=Callable[..., Any])

TITLE = "Konvert API"
VERSION = "1"
DESCRIPTION = N_(
    "Read the directory of prisoners and facilities, follow and report a letter with its "
    "tracking token, check a text for censor risks, and read the delivery statistics. "
    "No cookies and no accounts: a letter's tracking token is the only credential."
)

TAGS = {
    "directory": Tag(name=N_("Directory"), description=N_("Prisoners and facilities.")),
    "letters": Tag(
        name=N_("Letters"),
        description=N_("For the holder of a tracking token: the token is the credential."),
    ),
    "check": Tag(name=N_("Censor-risk check"), description=N_("Findings in a letter's text.")),
    "statistics": Tag(
        name=N_("Statistics"),
        description=N_("How letters fared, per facility; public and cached for five minutes."),
    ),
    "mailroom": Tag(
        name=N_("Mailroom"),
        description=N_(
            "The organisation's letter service, for its volunteers: personal API tokens only."
        ),
    ),
    "translation": Tag(
        name=N_("Translation desk"),
        description=N_(
            "Volunteers translate letters into the prisoner's language: personal API tokens "
            "of translators only."
        ),
    ),
}

# Every error answer, described once.
INVALID = N_("Refused input: the field to correct and why.")
UNREADABLE = N_(
    "Unreadable input, refused before anything reads it: a path, query string or body that is "
    "not UTF-8 text or holds NUL, or JSON nested too deeply."
)
NOT_FOUND = N_("Unknown id or token.")
TOO_MANY = N_("Too many requests: wait and try again (see Retry-After).")
NOT_MODIFIED = N_("Not modified: your copy with this ETag is current.")
UNAUTHORIZED = N_("No valid personal API token: send Authorization: Bearer <token>.")
FORBIDDEN = N_("The token's account may not do this.")
#: The security scheme of the operations that take a personal API token (`operation(bearer=…)`).
BEARER_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": N_(
        "A personal API token of a mailroom volunteer or organizer, made on the account page "
        "or with `flask users create-token`. Stored hashed; revocable."
    ),
}


class ResponseDoesNotMatchSchema(RuntimeError):
    """A view answered something its schema does not allow: a bug, answered with a 500."""


def _answer_refused_input(
    request: Request,
    prepared: Response | None,
    error: Exception | None,
    _instance: object,
    _adapter: ModelAdapter[Any, Any, Any],
    *,
    body_model: type[BaseModel] | None,
    query_model: type[BaseModel] | None,
    status: int,
    form_model: type[BaseModel] | None = None,
) -> None:
    """SpecTree's hook after validating a request: refused input in our shape and language.

    SpecTree has prepared a response with pydantic's English error list; we answer with the
    operation's ``status`` and our error instead. A body that is not a JSON object (SpecTree
    reads it as ``{}``, or skips it when it is sent as a form) is named as ``body``.
    """
    if form_model is not None:
        _answer_refused_form(request, error, form_model, status)
        return
    is_object = isinstance(request.get_json(silent=True), dict)
    if error is None:
        if body_model is not None and not is_object:
            _refuse(not_a_json_object(), status)
        return
    assert isinstance(error, ValidationError)  # the only error pydantic's adapter reports
    if body_model is not None and error.title == body_model.__name__:
        refused = refused_input(error, body_model) if is_object else not_a_json_object()
    else:
        refused = refused_input(error, query_model or BaseModel)
    _refuse(refused, status)


def _answer_refused_form(
    request: Request, error: Exception | None, form_model: type[BaseModel], status: int
) -> None:
    """`_answer_refused_input` for a multipart body (SpecTree skips any other body)."""
    if request.mimetype != "multipart/form-data":
        _refuse(not_a_form(), status)
    if error is not None:
        assert isinstance(error, ValidationError)
        _refuse(refused_input(error, form_model), status)


def _refuse(error: DomainError, status: int) -> NoReturn:
    """Answer now, as the view would have: SpecTree's hook cannot return a response."""
    response, _status = json_refusal(error, status)
    response.status_code = status
    abort(response)


def _refuse_wrong_response(
    _request: Request,
    _response: Response,
    error: Exception | None,
    _instance: object,
    _adapter: ModelAdapter[Any, Any, Any],
) -> None:
    """SpecTree's hook after validating a response: a wrong one is a bug, never sent as is.

    SpecTree would send pydantic's error list, values included; we raise an error that says
    where the response went wrong (not the values: they may be a person's data), which Flask
    logs and answers with a 500.
    """
    if isinstance(error, ValidationError):
        problems = [(detail["loc"], detail["type"]) for detail in error.errors()]
        raise ResponseDoesNotMatchSchema(f"{error.title}: {problems}")
    if error is not None:
        raise ResponseDoesNotMatchSchema(type(error).__name__)


class UploadedFile(FileStorage):
    """An uploaded file as a form model receives it: a `FileStorage` that JSON names.

    SpecTree turns pydantic's error list into JSON before our hook answers refused input, and
    that list holds the input, files included: a file must be writable as JSON (its escaped
    name, never its content) rather than end the request with a TypeError.
    """

    def __html__(self) -> str:
        """The file's name, escaped (Flask's JSON provider writes objects by ``__html__``)."""
        return str(escape(self.filename or ""))


class _FlaskPlugin(FlaskPlugin):
    """SpecTree's Flask plugin, checking responses only where configured to (tests).

    Checking a response parses it again: about 20 ms for the statistics of 1,000 facilities,
    too much for every request in production. Tests check every response they get, and
    Schemathesis checks the document against the running server.
    """

    def fill_form(self, request: Request) -> dict[str, Any]:
        """A multipart body's fields and files (`UploadedFile`s), as SpecTree reads them."""
        data: dict[str, Any] = get_multidict_items(request.form)
        for name in request.files:
            if not name:  # a part without a name: nothing can ask for it
                continue
            files = [
                UploadedFile(
                    stream=upload.stream,
                    filename=upload.filename,
                    name=upload.name,
                    headers=upload.headers,
                )
                for upload in request.files.getlist(name)
            ]
            data[name] = files if len(files) > 1 else files[0]
        return data

    def validate_response(
        self,
        resp: Any,
        resp_model: Responses | None,
        skip_validation: bool,
        force_resp_serialize: bool,
    ) -> Any:
        """Validate ``resp`` against its model, when API_VALIDATE_RESPONSES is on."""
        skip = skip_validation or not current_app.config["API_VALIDATE_RESPONSES"]
        return super().validate_response(resp, resp_model, skip, force_resp_serialize)


spec = SpecTree(
    "flask",
    backend=_FlaskPlugin,
    mode="strict",  # only the operations declared with `operation`
    title=TITLE,
    version=VERSION,
    description=DESCRIPTION,
    page_templates={},  # no browser UI from a CDN; see templates/api/reference.html
    validation_error_model=FieldErrorBody,
    naming_strategy=lambda model: model.__name__,
    # Models nested in several bodies (Facility, the enums) are one component each.
    nested_naming_strategy=lambda _parent, child: child,
    after=_refuse_wrong_response,
)


@dataclass(frozen=True)
class OperationTexts:
    """What SpecTree cannot declare about an operation, added to the document by `document`.

    SpecTree takes summaries from docstrings, which ``pybabel`` cannot collect; ours are
    given to `operation` marked with ``N_``, so that the reference page can translate them.
    """

    summary: str
    description: str
    response_headers: dict[int, tuple[str, ...]] = field(default_factory=dict)
    path_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    bearer: bool = False


_OPERATIONS: dict[str, OperationTexts] = {}


def operation(
    operation_id: str,
    summary: str,
    description: str,
    *,
    tag: str,
    responses: dict[int, tuple[type[BaseModel] | None, str]],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
    refused_status: int = 400,
    cached: bool = False,
    rate_limited: bool = False,
    path_parameters: dict[str, str] | None = None,
    path_schemas: dict[str, dict[str, Any]] | None = None,
    bearer: bool = False,
    bearer_check: Callable[[Any], Any] | None = None,
) -> Callable[[View], View]:
    """Declare an operation: what it takes, what it answers, and how its input is checked.

    ``responses`` maps each status to its body model (None: no body) and description; input
    the models refuse is answered ``refused_status`` with `FieldErrorBody`. ``cached`` adds
    the 304 answer, the ETag and Cache-Control headers (the If-None-Match parameter comes
    with ``headers=ConditionalHeaders``); ``rate_limited`` adds the 429 answer and the
    rate-limit headers. ``path_schemas`` replace the schemas SpecTree gives path parameters
    from their converters (a string's shape). The view receives the validated models as
    ``query`` and ``json``; a ``form`` model (a multipart body, with files) arrives as
    ``form``, and the operation then refuses any other body. Every operation also documents
    the 400 that `app.inputguard` answers to unreadable input before any schema reads it.
    ``bearer`` declares that the operation takes a personal API token
    (`app.api.auth.api_account`), with its 401 and 403, checked before the input (by
    ``bearer_check``, a check of `app.auth.permissions`, when the mailroom's is not the one).
    """
    codes: dict[str, Any] = {f"HTTP_{code}": value for code, value in responses.items()}
    # Request headers (If-None-Match) are documented, but no value of theirs is refused.
    refuses = (
        query is not None or body is not None or form is not None or refused_status in responses
    )
    if refuses:
        codes.setdefault(f"HTTP_{refused_status}", (FieldErrorBody, INVALID))
    # Any operation: input refused before the schemas read it (app.inputguard).
    codes.setdefault("HTTP_400", (FieldErrorBody, UNREADABLE))
    if bearer:
        codes.setdefault("HTTP_401", (HttpErrorBody, UNAUTHORIZED))
        codes.setdefault("HTTP_403", (HttpErrorBody, FORBIDDEN))
    response_headers: dict[int, tuple[str, ...]] = {}
    success = min(responses)
    if cached:
        codes["HTTP_304"] = (None, NOT_MODIFIED)
        response_headers[success] = CACHE_HEADERS
        response_headers[304] = CACHE_HEADERS
    if rate_limited:
        codes["HTTP_429"] = (HttpErrorBody, TOO_MANY)
        response_headers[success] = response_headers.get(success, ()) + RATE_LIMIT_HEADERS
        response_headers[429] = ("Retry-After", *RATE_LIMIT_HEADERS)
    _OPERATIONS[operation_id] = OperationTexts(
        summary,
        description,
        response_headers,
        path_schemas or {},
        bearer,
    )

    def before(
        request: Request,
        prepared: Response | None,
        error: Exception | None,
        instance: object,
        adapter: ModelAdapter[Any, Any, Any],
    ) -> None:
        if bearer:
            # who asks comes first: no token, nothing said about the input
            api_account(bearer_check) if bearer_check else api_account()
        _answer_refused_input(
            request,
            prepared,
            error,
            instance,
            adapter,
            body_model=body,
            query_model=query,
            status=refused_status,
            form_model=form,
        )

    decorate: Callable[[View], View] = spec.validate(
        query=query,
        json=body,
        form=form,
        headers=headers,
        resp=Responses(**codes),
        tags=[TAGS[tag]],
        before=before,
        validation_error_status=refused_status,
        path_parameter_descriptions=path_parameters,
        operation_id=operation_id,
    )
    return decorate


@cache
def _document() -> str:
    result = copy.deepcopy(spec.spec)
    for operations in result["paths"].values():
        for details in operations.values():
            texts = _OPERATIONS[details["operationId"]]
            details["summary"] = texts.summary
            details["description"] = texts.description
            for parameter in details["parameters"]:
                if parameter["in"] == "path" and parameter["name"] in texts.path_schemas:
                    parameter["schema"] = texts.path_schemas[parameter["name"]]
            for code, names in texts.response_headers.items():
                details["responses"][str(code)]["headers"] = {
                    name: HEADER_SCHEMAS[name] for name in names
                }
            if texts.bearer:
                details["security"] = [{BEARER_SCHEME: []}]
                result["components"].setdefault("securitySchemes", {})[BEARER_SCHEME] = (
                    BEARER_SECURITY_SCHEME
                )
    _drop_unused_schemas(result)
    for name, schema in result["components"]["schemas"].items():
        if "enum" in schema:
            schema["description"] = ENUM_DESCRIPTIONS[name]
    return json.dumps(result, ensure_ascii=False)


def _drop_unused_schemas(result: dict[str, Any]) -> None:
    """Leave out the schemas no operation refers to: SpecTree's own error model, and the
    models of query strings and request headers, which the document lists as parameters."""
    schemas = result["components"]["schemas"]
    used: set[str] = set()
    pending: list[Any] = [result["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.rsplit("/", 1)[-1] not in used:
                name = reference.rsplit("/", 1)[-1]
                used.add(name)
                pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - used:
        del schemas[name]


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared operation (a fresh copy to read or change).

    SpecTree's document, built from the application's URL map once per process, with our
    summaries and descriptions, the response headers and the shapes of path parameters
    SpecTree cannot declare.
    """
    return dict(json.loads(_document()))


def document_json() -> str:
    """The document as JSON text, built once per process."""
    return _document()
