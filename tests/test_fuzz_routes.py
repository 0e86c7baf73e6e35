"""Finding 9 of issue 13: no input makes any route answer 500.

A property-based test (Hypothesis) sends generated requests to every route of the URL map,
anonymously and as an admin: paths with odd or real ids and tokens, query strings, form
bodies, JSON bodies for the API, uploads for the import, and now and then bytes that are not
UTF-8 anywhere in them. The answer must never be a server error, and its headers must be
ones a real server can send (gunicorn refuses non-Latin-1 text and line breaks in headers,
and answers 500 itself).

- CSRF protection and rate limits are off in this app, so that bodies reach the views rather
  than stop at a 400 or a 429 (both are tested elsewhere, and the input guard runs before
  them anyway).
- The database holds the demo data set, a drive with a participant, and the letter
  templates, and generated values are often real ids and tokens: the views get past their
  404s to the code that reads the rest of the input.
- Exceptions propagate (``TESTING``): a 500 shows up as its traceback, with the request that
  caused it (Hypothesis shrinks it and prints it).
- It runs on SQLite and on PostgreSQL, which refuses more (NUL in text, for one).
- The run is bounded: ``KONVERT_FUZZ_EXAMPLES`` requests per user and database (default 500,
  under 10 s each on one core, plus as much to seed the database), derandomized so that the
  suite gives the same answer every time. Set ``KONVERT_FUZZ_RANDOM=1`` (and more examples)
  to explore new inputs instead: 10,000 each found nothing more when this was written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, quote, quote_from_bytes, unquote_to_bytes, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter, Rule
from wtforms.fields.core import UnboundField

from app import create_app
from app.drives import services as drives
from app.extensions import db
from app.library.services import sync_templates
from app.models import (
    Assignment,
    Drive,
    Facility,
    Official,
    OutboxMessage,
    Prisoner,
    Role,
    Template,
    User,
)
from config import BASE_DIR
from tests.conftest import _settings, log_in
from tests.factories import make_letter, make_user
from tests.isolation import isolate_requests
from tests.postgres import truncate_all_tables

EXAMPLES = int(os.environ.get("KONVERT_FUZZ_EXAMPLES", "500"))
RANDOM = os.environ.get("KONVERT_FUZZ_RANDOM") == "1"
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
ODD_NUMBERS = ["0", "-1", "1", "2147483647", "2147483648", "99999999999999999999999", "1e3", " 1"]
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "\r\n",
    "%",
    "%ff",
    "'",
    '"',
    "<script>",
    "../../etc/passwd",
    "//evil.example",
    "/\t/evil.example",
    "\ufffd",
    "\u202e",
    "Иванов",
    "=HYPERLINK(1)",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "true",
    "null",
    "x" * 5000,
]
SAFE_VALUES = ["ru", "en", "y", "on", "1", "2026-01-15", "admin@example.org", "sent", "post"]
QUERY_NAMES = [
    "q", "page", "per_page", "next", "region", "facility", "status", "type", "template",
    "envelope", "saved", "sort", "accepts", "code", "kind", "format", "language", "token",
]  # fmt: skip
JSON_KEYS = [
    "kind", "date", "channel", "tracking_number", "note", "text", "language", "extension_days",
    "prisoner_id", "template_id", "body",
]  # fmt: skip


@dataclass
class Known:
    """Real ids and tokens in the fuzzed database, by the URL variable they fit."""

    by_name: dict[str, list[str]] = field(default_factory=dict)
    static_files: list[str] = field(default_factory=list)
    # Every WTForms field the app declares, with its class's name (FileField…).
    field_classes: dict[str, str] = field(default_factory=dict)
    # The fields of the forms pages show, by the endpoint they post to: name → offered values.
    forms: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # The query parameters pages use (search forms, links), by endpoint: name → values seen.
    queries: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def values_for(self, rule: Rule, name: str) -> list[str]:
        """The real values a variable of ``rule`` may take (tokens depend on the route)."""
        if name == "token":
            return self.by_name.get(f"token:{rule.endpoint.split('.')[0]}", [])
        if name == "filename":
            return self.static_files
        return self.by_name.get(name, [])


def _form_fields() -> dict[str, str]:
    """Every WTForms field name the app declares, with its field class's name."""
    found: dict[str, str] = {}
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        for name in dir(form_class):
            value = getattr(form_class, name, None)
            if isinstance(value, UnboundField):
                found.setdefault(name, value.field_class.__name__)
    return found


def _seed() -> Known:
    """The demo data, the templates, a drive with a participant; what the fuzzer may use."""
    from app.demo.services import load_demo_data

    sync_templates(Path(BASE_DIR / "letters"))
    load_demo_data()
    organizer = make_user(email="fuzz-organizer@example.org")
    prisoner_ids = [
        p.id for p in db.session.scalars(select(Prisoner).limit(30)) if p.can_receive_letters
    ][:5]
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Fuzz", held_on=date.today(), place="", prisoner_ids=prisoner_ids,
            template_ids=[], target_per_prisoner=2,
        ),
    )  # fmt: skip
    participant = drives.join(drive, "Аня", ["ru"])
    # Links are kept only as hashes: the fuzzer uses the ones handed out here.
    drive_links = [participant.token, drive.join_token]
    db.session.commit()
    letter_links = [
        make_letter(db.session.get(Prisoner, prisoner_id)).token
        for prisoner_id in prisoner_ids[:3]
    ]

    def ids(query):
        return [str(value) for value in db.session.scalars(query).all()[:8]]

    known = Known()
    known.by_name = {
        "prisoner_id": ids(select(Prisoner.id)),
        "facility_id": ids(select(Facility.id)),
        "official_id": ids(select(Official.id)),
        "drive_id": ids(select(Drive.id)),
        "assignment_id": ids(select(Assignment.id)),
        "message_id": ids(select(OutboxMessage.id)),
        "user_id": ids(select(User.id)),
        "template_id": ids(select(Template.id)),
        "code": ["en", "ru"],
        "kind": ["facilities", "prisoners"],
        "file_format": ["csv", "json"],
        "token:tracking": letter_links,
        "token:api": letter_links,
        "token:mail": letter_links,
        "token:drives": [*drive_links, *ids(select(Drive.code))],
    }
    static = BASE_DIR / "app" / "static"
    known.static_files = [str(p.relative_to(static)) for p in static.rglob("*") if p.is_file()]
    known.field_classes = _form_fields()
    return known


class _Forms(HTMLParser):
    """The forms of a page (method, where each goes, its fields with the values offered) and
    the query strings of its links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, list[str]]]] = []
        self.links: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "a" and "?" in found.get("href", ""):
            self.links.append(found["href"])
        if tag == "form":
            method = found.get("method", "get").upper()
            self.forms.append((method, found.get("action", ""), {}))
        elif not self.forms:
            return
        elif tag in {"input", "textarea", "button"} and found.get("name"):
            values = self.forms[-1][2].setdefault(found["name"], [])
            values.append(found.get("value", ""))
        elif tag == "select" and found.get("name"):
            self._select = found["name"]
            self.forms[-1][2].setdefault(self._select, [])
        elif tag == "option" and self._select:
            self.forms[-1][2][self._select].append(found.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _discover_forms(app: Flask, known: Known, admin: User) -> None:
    """Open every page, anonymously and as an admin, with real ids and tokens (several, until
    one shows the page), and note the forms it shows."""
    anonymous, logged_in = app.test_client(), app.test_client()
    log_in(logged_in, admin)
    adapter = app.url_map.bind("localhost")
    for rule in _routes(app):
        if "GET" not in rule.methods or rule.endpoint in {"static", "auth.logout"}:
            continue
        for attempt in range(4):
            values = {}
            for name in rule.arguments:
                real = known.values_for(rule, name) or ["1"]
                values[name] = real[attempt % len(real)]
            url = adapter.build(rule.endpoint, values)
            pages = [anonymous.get(url), logged_in.get(url)]
            shown = [
                page for page in pages if page.status_code == 200 and page.mimetype == "text/html"
            ]
            for page in shown:
                _note_forms(page.get_data(as_text=True), url, adapter, known)
            if shown:
                break


def _note_forms(html: str, url: str, adapter: MapAdapter, known: Known) -> None:
    parser = _Forms()
    parser.feed(html)
    found = [(method, action or url, fields) for method, action, fields in parser.forms]
    for link in parser.links:
        fields = {name: [value] for name, value in parse_qsl(urlsplit(link).query)}
        found.append(("GET", link, fields))
    for method, action, fields in found:
        try:
            endpoint, _arguments = adapter.match(urlsplit(action).path, method=method)
        except HTTPException:
            continue
        into = known.forms if method == "POST" else known.queries
        merged = into.setdefault(str(endpoint), {})
        for name, offered in fields.items():
            merged.setdefault(name, [])
            merged[name].extend(value for value in offered if value not in merged[name])


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_app(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Flask, Known, User]]:
    """The app with CSRF checks and rate limits off, on a seeded database: a copy of the
    migrated SQLite one, then the session's PostgreSQL one (its own refusals: NUL in text,
    numbers beyond a column's range)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    if request.param == "sqlite":
        shutil.copy(request.getfixturevalue("migrated_database"), instance / "konvert.db")
        settings = _settings(instance)
    else:
        url = request.getfixturevalue("postgres_server").url
        settings = {"INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url}
    overrides = {**settings, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    application = create_app("testing", overrides)
    isolate_requests(application)
    with application.app_context():
        if request.param == "postgresql":
            truncate_all_tables()
        known = _seed()
        admin = make_user(email="fuzz-admin@example.org", role=Role.ADMIN)
        _discover_forms(application, known, admin)
        # The pages' forms and links were found.
        assert len(known.forms) >= 20 and len(known.queries) >= 5, (known.forms, known.queries)
        yield application, known, admin
        db.session.remove()
        db.engine.dispose()


@dataclass(frozen=True)
class Fuzzed:
    """One generated request: the raw path and query string (as a server hands them over)."""

    method: str
    path: bytes
    query: bytes
    body: bytes | None
    content_type: str | None
    headers: dict[str, str]
    language_cookie: str | None

    def __repr__(self) -> str:
        body = None if self.body is None else self.body[:300]
        return (
            f"{self.method} {self.path!r} ?{self.query[:300]!r} {self.content_type} {body!r} "
            f"headers={self.headers!r} language cookie={self.language_cookie!r}"
        )

    def _repr_pretty_(self, printer, _cycle: bool) -> None:
        printer.text(repr(self))  # Hypothesis' printer: the short form above


# Generated text, often with one of the odd values inside it.
TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda before, odd, after: before + odd + after,
        st.text(max_size=8),
        st.sampled_from(ODD_TEXT),
        st.text(max_size=8),
    ),
)
# Request headers a view or an extension reads, with what browsers and robots send.
HEADERS = {
    "Accept-Language": ["ru", "en-US,en;q=0.9", "*", "ru;q=abc", ";;,", "xx-YY;q=1.5"],
    "If-None-Match": ['"abc"', "*", 'W/"x"', '"'],
    "Referer": ["https://evil.example/", "/t/x"],
    "X-Forwarded-For": ["1.2.3.4", "::1", "not an address"],
}
# WSGI carries header values as Latin-1 text; a line break cannot be in one.
HEADER_TEXT = st.one_of(
    st.sampled_from([value for values in HEADERS.values() for value in values]),
    st.text(st.characters(max_codepoint=255, exclude_characters="\r\n"), max_size=40),
)
NOT_UTF8 = st.binary(min_size=1, max_size=6).filter(lambda b: not _is_utf8(b))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _value(draw: st.DrawFn, real: list[str]) -> str:
    choices: list[st.SearchStrategy[str]] = [
        st.sampled_from(ODD_NUMBERS),
        st.sampled_from(ODD_TEXT),
        st.sampled_from(ODD_TEXT),
        st.sampled_from(SAFE_VALUES),
        TEXT,
        TEXT,
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    ]
    if real:  # more often than not: past the 404 to the code that reads the rest
        choices = [st.sampled_from(real)] * 8 + choices
    return draw(st.one_of(choices))


def _pairs(draw: st.DrawFn, names: list[str], known: Known) -> bytes:
    """``name=value&…`` with %-escaped UTF-8 text, as a browser sends a query or a form."""
    return b"&".join(
        quote(name, safe="").encode()
        + b"="
        + quote(_value(draw, known.by_name.get(name, [])), safe="").encode()
        for name in names
    )


@st.composite
def fuzzed_requests(draw: st.DrawFn, rules: list[Rule], known: Known) -> Fuzzed:
    """A request to one of ``rules``: half the time a request the pages would send with one
    value replaced by a bad one (`_mutant`), otherwise freely generated (`_free`)."""
    # Routes that read a query or a form come up twice as often: there is more to try there.
    busy = [
        rule for rule in rules if rule.endpoint in known.forms or rule.endpoint in known.queries
    ]
    rule = draw(st.sampled_from(rules + busy))
    method = draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})))
    if draw(st.booleans()):
        path, query, body, content_type = _mutant(draw, rule, method, known)
    else:
        path, query, body, content_type = _free(draw, rule, method, known)
    headers = draw(st.dictionaries(st.sampled_from(sorted(HEADERS)), HEADER_TEXT, max_size=2))
    cookie = draw(st.one_of(st.none(), st.sampled_from(["en", "ru", "de", ""]), HEADER_TEXT))
    return Fuzzed(method, path, query, body, content_type, headers, cookie)


# What most often broke a view: NUL (PostgreSQL), numbers no id can be, impossible dates,
# line breaks, text too long, nothing at all.
WORST = ["\x00", "99999999999999999999999", "-1", "2026-02-30", "\r\n", "x" * 5000, "", " "]
BAD = st.one_of(
    st.sampled_from(WORST), st.sampled_from(ODD_TEXT), st.sampled_from(ODD_NUMBERS), TEXT
)


def _mutant(
    draw: st.DrawFn, rule: Rule, method: str, known: Known
) -> tuple[bytes, bytes, bytes | None, str | None]:
    """A request as a page would send it (real ids and tokens in the path, the parameters and
    fields its pages use, with values they offer) but for one value, which is a bad one."""
    path_values = {
        name: draw(st.sampled_from(known.values_for(rule, name) or ["1"]))
        for name in sorted(rule.arguments)
    }
    query = {
        name: _offered(draw, values)
        for name, values in known.queries.get(rule.endpoint, {}).items()
    }
    fields = {}
    if method == "POST":
        fields = {
            name: _offered(draw, values)
            for name, values in known.forms.get(rule.endpoint, {}).items()
        }
    slots = [("path", name) for name in path_values] + [("query", name) for name in query]
    slots += [("body", name) for name in fields]
    if slots:
        where, name = draw(st.sampled_from(slots))
        {"path": path_values, "query": query, "body": fields}[where][name] = draw(BAD)
    path = b"".join(
        quote(path_values[part], safe="/" if part == "filename" else "").encode()
        if is_variable
        else part.encode()
        for is_variable, part in _parts(rule.rule)
    )
    if method != "POST":
        return path, _encode(query), None, None
    if rule.rule.startswith("/api/"):
        return path, _encode(query), *_body(draw, rule, known, broken=False)
    return path, _encode(query), _encode(fields), "application/x-www-form-urlencoded"


def _offered(draw: st.DrawFn, values: list[str]) -> str:
    return draw(st.sampled_from(values)) if values else ""


def _encode(pairs: dict[str, str]) -> bytes:
    return b"&".join(
        quote(name, safe="").encode() + b"=" + quote(value, safe="").encode()
        for name, value in pairs.items()
    )


def _free(
    draw: st.DrawFn, rule: Rule, method: str, known: Known
) -> tuple[bytes, bytes, bytes | None, str | None]:
    """A freely generated request: odd or real values everywhere, and about one time in
    twelve bytes that are not UTF-8 in one place: the path (raw, as a server passes on what it
    received), the query string or the body (%-escaped)."""
    broken = draw(st.sampled_from([None] * 9 + ["path", "query", "body"]))
    path = b""
    for is_variable, part in _parts(rule.rule):
        if not is_variable:
            path += part.encode()
        elif broken == "path":
            path += draw(NOT_UTF8)
        else:
            value = _value(draw, known.values_for(rule, part))
            path += quote(value, safe="/" if part == "filename" else "").encode()
    if broken == "path" and rule.arguments == set():
        path += draw(NOT_UTF8)
    used = known.queries.get(rule.endpoint)
    if used and draw(st.integers(0, 3)) > 0:
        # The parameters the pages use with this route, with values seen or generated.
        query = _form_pairs(draw, used, known)
    else:
        query = _pairs(draw, draw(st.lists(st.sampled_from(QUERY_NAMES), max_size=4)), known)
    if broken == "query":
        query += b"&" + draw(st.sampled_from(QUERY_NAMES)).encode() + b"="
        query += quote_from_bytes(draw(NOT_UTF8)).encode()
    if method == "GET":
        return path, query, None, None
    body, content_type = _body(draw, rule, known, broken == "body")
    return path, query, body, content_type


def _parts(rule: str) -> list[tuple[bool, str]]:
    """The rule as (is_variable, text) parts: static text, or a variable's name."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in re.finditer(r"<(?:[^<>:]+:)?(\w+)>", rule):
        if match.start() > position:
            parts.append((False, rule[position : match.start()]))
        parts.append((True, match.group(1)))
        position = match.end()
    if position < len(rule):
        parts.append((False, rule[position:]))
    return parts


def _body(draw: st.DrawFn, rule: Rule, known: Known, broken: bool) -> tuple[bytes, str]:
    if rule.rule.startswith("/api/"):
        if broken:
            return b'{"text": "' + draw(NOT_UTF8) + b'"}', "application/json"
        if draw(st.integers(0, 9)) == 0:
            depth = draw(st.sampled_from([50, 999, 5000, 100_000]))
            return b"[" * depth + b"]" * depth, "application/json"
        document = draw(
            st.one_of(
                st.dictionaries(st.sampled_from(JSON_KEYS), _json_values(), max_size=6),
                _json_values(),
            )
        )
        text = json.dumps(document, ensure_ascii=draw(st.booleans()))
        if draw(st.integers(0, 14)) == 0:
            text = text.replace("a", "\\ud800", 1)  # half a character, escaped
        return text.encode("utf-8", "surrogatepass"), "application/json"
    names = sorted(known.field_classes)
    form = known.forms.get(rule.endpoint)
    if form and draw(st.integers(0, 3)) > 0:
        # The form the pages show for this route, each field with an offered value (a real
        # choice) or a generated one, some fields left out.
        if "file" in form and draw(st.booleans()):
            return _multipart(draw, [name for name in sorted(form) if draw(st.booleans())], known)
        body = _form_pairs(draw, form, known)
    else:
        chosen = draw(st.lists(st.sampled_from(names), max_size=10, unique=True))
        uploads = any(known.field_classes[name] == "FileField" for name in chosen)
        if uploads and draw(st.booleans()):
            return _multipart(draw, chosen, known)
        body = _pairs(draw, chosen, known)
    if broken:
        body += b"&" + draw(st.sampled_from(names)).encode() + b"="
        body += quote_from_bytes(draw(NOT_UTF8)).encode()
    return body, "application/x-www-form-urlencoded"


def _form_pairs(draw: st.DrawFn, fields: dict[str, list[str]], known: Known) -> bytes:
    """A form's fields (some left out), each with an offered value (a real choice) or a
    generated one, %-escaped."""
    pairs: list[bytes] = []
    for name in sorted(fields):
        if draw(st.integers(0, 5)) == 0:
            continue
        offered = [value for value in fields[name] if value]
        if offered and draw(st.integers(0, 2)) > 0:
            value = draw(st.sampled_from(offered))
        else:
            value = _value(draw, known.by_name.get(name, []))
        pairs.append(quote(name, safe="").encode() + b"=" + quote(value, safe="").encode())
    return b"&".join(pairs)


def _json_values() -> st.SearchStrategy[object]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(ODD_TEXT + SAFE_VALUES + ODD_NUMBERS),
        st.text(max_size=30),
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
        max_leaves=6,
    )


def _multipart(draw: st.DrawFn, names: list[str], known: Known) -> tuple[bytes, str]:
    boundary = "fuzzboundary"
    parts: list[bytes] = []
    for name in names:
        if known.field_classes.get(name) == "FileField":
            filename = draw(st.sampled_from(["x.csv", "x.json", "x.txt", "x", "x.xlsx"]))
            content = draw(
                st.one_of(
                    st.binary(max_size=200),
                    st.sampled_from(
                        [
                            b"[" * 100_000 + b"]" * 100_000,
                            b'{"facilities": [{"name": "\\ud800"}]}',
                            b"external_id,code,name\n=1,+2,-3\n",
                            "name;region\nИК-1;Москва\n".encode("cp1251"),
                        ]
                    ),
                )
            )
            header = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
            parts.append(header.encode() + b"\r\n\r\n" + content)
        else:
            value = _value(draw, known.by_name.get(name, [])).encode("utf-8", "replace")
            header = f'Content-Disposition: form-data; name="{name}"'
            parts.append(header.encode() + b"\r\n\r\n" + value)
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"


def _send(client: FlaskClient, request: Fuzzed) -> None:
    # The path and query string go in as a WSGI server hands them over: bytes as Latin-1.
    environ = {
        "PATH_INFO": unquote_to_bytes(request.path).decode("latin-1"),
        "QUERY_STRING": request.query.decode("latin-1"),
    }
    if request.language_cookie is None:
        client.delete_cookie("konvert_lang")
    else:
        client.set_cookie("konvert_lang", request.language_cookie)
    response = client.open(
        "/",
        method=request.method,
        data=request.body,
        content_type=request.content_type,
        headers=request.headers,
        environ_overrides=environ,
    )
    assert response.status_code < 500 or response.status_code == 503, (
        f"{request!r} answered {response.status_code}"
    )
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value, f"{request!r}: header {name} {value!r}"
        value.encode("latin-1")  # gunicorn would answer 500 itself


def _routes(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


@pytest.mark.parametrize("user", ["anonymous", "admin"])
def test_finding_09_no_route_answers_500_to_generated_input(fuzz_app, user):
    app, known, admin = fuzz_app
    client = app.test_client()
    rules = _routes(app)

    @SETTINGS
    @given(request=fuzzed_requests(rules, known))
    def every_route(request: Fuzzed) -> None:
        note(repr(request))
        if user == "admin":
            log_in(client, admin)  # again: a generated request may have logged out
        _send(client, request)

    every_route()
