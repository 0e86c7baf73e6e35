"""Input no view should have to think about, refused before any view runs.

- Text that is not text: bytes that are not UTF-8, or NUL, in the path, the query string or a
  form. Werkzeug passes invalid UTF-8 on quietly changed (``%FF`` becomes "%FF" or "�") to
  searches and redirects, and PostgreSQL refuses any text holding NUL (a 500 on every search
  given ``%00``). Both are answered with a 400 in the reader's language instead.
- JSON nested deeper than the parser can follow. Python's parser stops with a RecursionError
  (not a ValueError), which nothing expects: every JSON the app reads goes through
  `loads_bounded`, which turns it into `TooDeeplyNested`, a ValueError like any other bad
  JSON. A JSON request body nested that deeply is answered with a 400 at once.
- JSON strings holding what no text can hold: NUL (``\\u0000``) or half a character (a lone
  ``\\ud800``). Valid JSON, but no database, page or file can store them: they are refused
  as unreadable JSON too (`UnstorableText`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.domain import DomainError
from app.refusals import json_refusal

# Fewer opening brackets than this cannot nest deeper than the parser follows (about 1000).
_BRACKETS_WORTH_CHECKING = 200
# \u0000, and \ud800-\udfff (surrogates: only valid in pairs, checked after parsing).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


class UnreadableJSON(ValueError):
    """JSON that parses to nothing usable (see the module's docstring)."""


class TooDeeplyNested(UnreadableJSON):
    """JSON nested deeper than the parser can follow."""


class UnstorableText(UnreadableJSON):
    """JSON whose strings hold NUL or half a character."""


def loads_bounded(text: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` that raises only ValueErrors (`UnreadableJSON` for what is described
    above) whatever the text."""
    try:
        document = json.loads(text, **kwargs)
    except RecursionError:
        raise TooDeeplyNested("the JSON is nested too deeply") from None
    raw = text if isinstance(text, str) else text.decode("utf-8", "replace")
    if _SUSPECT_ESCAPE.search(raw):
        try:
            whole = json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise UnstorableText("the JSON holds half of a character") from None
        if b"\\u0000" in whole:
            raise UnstorableText("the JSON holds a NUL character")
    return document


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with `loads_bounded`: ``request.get_json`` then refuses deep or
    broken JSON as it refuses any other bad JSON (None when silent, else a 400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text; a ValueError for anything unusable."""
        return loads_bounded(s, **kwargs)


def _not_text(data: bytes) -> bool:
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def undecodable_part() -> str | None:
    """Which part of the request ("path", "query", "body") is not text, if any.

    WSGI hands the path and query string over as bytes in Latin-1 clothing; a form body is
    checked once its %-escapes are undone. Of a multipart form (an upload) only the fields
    are checked, for NUL (Werkzeug already replaced bytes that are not UTF-8): files may be in
    any encoding, and the import reads them itself.
    """
    environ = request.environ
    if _not_text(str(environ.get("PATH_INFO", "")).encode("latin-1", "replace")):
        return "path"
    query = str(environ.get("QUERY_STRING", "")).encode("latin-1", "replace")
    if _not_text(unquote_to_bytes(query)):
        return "query"
    if request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True)
        if _not_text(unquote_to_bytes(body.replace(b"+", b" "))):
            return "body"
    elif request.mimetype == "multipart/form-data" and _has_nul(request.form.items(multi=True)):
        return "body"
    return None


def _has_nul(pairs: Iterable[tuple[str | None, str]]) -> bool:
    # A multipart part whose name Werkzeug cannot read comes with the name None: unreadable too.
    return any(key is None or "\x00" in key or "\x00" in value for key, value in pairs)


def json_body_problem() -> str | None:
    """What makes the request's JSON body unreadable (see the module's docstring), if anything.

    Only bodies that may have such a problem are parsed here (with many brackets, or a
    suspect escape); others are parsed once, by the view.
    """
    if not request.is_json:
        return None
    body = request.get_data(cache=True)
    deep = body.count(b"[") + body.count(b"{") >= _BRACKETS_WORTH_CHECKING
    if not deep and not _SUSPECT_ESCAPE.search(body.decode("utf-8", "replace")):
        return None
    try:
        loads_bounded(body)
    except TooDeeplyNested:
        return _("The JSON is nested too deeply.")
    except UnstorableText:
        return _(
            "The JSON holds an escape (\\u…) for a character no text can hold: "
            "NUL, or half of a character."
        )
    except ValueError:
        return None  # other bad JSON: each view says what it expected
    return None


def _refuse(field: str, message: str) -> Response | tuple[Response | str, int]:
    if request.path.startswith("/api/"):
        return json_refusal(DomainError(field, message), 400)
    return render_template("errors/error.html", code=400, message=message), 400


def refuse_unreadable_input() -> Response | tuple[Response | str, int] | None:
    """The before-request check: a 400 for text that is not text and for unreadable JSON."""
    part = undecodable_part()
    if part is not None:
        return _refuse(
            part,
            _(
                "The address or the form holds characters that are not valid text. "
                "Check the link, or reload the page and send the form again."
            ),
        )
    problem = json_body_problem()
    if problem is not None:
        return _refuse("body", problem)
    return None


def register_input_guards(app: Flask) -> None:
    """Read JSON with `loads_bounded` and refuse unreadable input before anything else runs
    (CSRF checks and rate limits included)."""
    app.json = BoundedJSONProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unreadable_input)
