"""The API against its own OpenAPI 3.1 document: valid, complete, and fuzzed by Schemathesis.

The fuzzing runs against a real HTTP server on loopback, over a migrated database holding
prisoners, facilities with enough reports for medians, letters and an appeal, so that the
operations answer with real data and not only 404s.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select, update
from werkzeug.serving import WSGIRequestHandler

from app.auth.api_tokens import create_api_token
from app.extensions import db
from app.mailroom import run_build, runs
from app.mailroom.scans import ScanPage, clean_scan
from app.mailroom.services import item_for
from app.models import (
    Channel,
    EventKind,
    PrintRunKind,
    PrisonerStatus,
    Role,
    TemplateKind,
    Translation,
    TranslationKind,
    TranslationState,
    User,
)
from app.models.base import utcnow
from app.stored_files import store_file
from app.translation import desk
from app.translation.replies import REPLY_TRANSLATION_SCAN
from tests.factories import (
    add_event,
    make_facility,
    make_letter,
    make_mailroom_letter,
    make_official,
    make_posted_mailroom_letter,
    make_prisoner,
    make_user,
)
from tests.servers import served_in_thread
from tests.test_mailroom_writer import handed_letter, open_mailroom

README = Path(__file__).resolve().parent.parent / "README.md"
TODAY = date.today()
EXAMPLES = 100  # per operation and mode: 8 operations × 2 modes, under a minute on 2 cores
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


SUCCESS = {200, 201, 202, 204}


@dataclass(frozen=True)
class KnownIds:
    """Ids and tokens that exist in the fuzzed database, by path parameter name."""

    values: dict[str, list[object]]
    #: A mailroom volunteer's personal API token, for the operations that take one.
    bearer: str = ""
    #: Reference codes of posted mailroom letters: replies and returns find their letter.
    references: tuple[str, ...] = ()
    #: A translator's personal API token, for the translation desk's operations.
    translator_bearer: str = ""
    #: The link of each writer's event's letter: an event is found under its own letter only.
    event_tokens: dict[int, str] = field(default_factory=dict)

    def choose(self, name: str, generated: object) -> object:
        """A real value most of the time, chosen by the generated one (so Hypothesis can
        replay and shrink it); the generated value itself one time in four (mostly a 404)."""
        real = self.values.get(name)
        digest = zlib.crc32(repr(generated).encode())
        if not real or digest % 4 == 3:
            return generated
        return real[(digest // 4) % len(real)]  # any of them, however many there are


def make_api_data() -> KnownIds:
    """Facilities, prisoners and letters with events: everything the API can answer about."""
    colony = make_facility()
    pretrial = make_facility(code="СИЗО-1", name="ФКУ СИЗО-1 УФСИН России по г. Москве",
                             region="Москва", postcode="105187", max_letter_pages=2)  # fmt: skip
    empty = make_facility(code="ИК-6", name="ФКУ ИК-6", region="Омская область", postcode="644000")
    gorinov = make_prisoner(colony)
    make_prisoner(pretrial, last_name="Фёдорова", first_name="Алёна", patronymic="Игоревна",
                  status=PrisonerStatus.PRETRIAL, languages="ru,en")  # fmt: skip
    make_prisoner(None, last_name="Иванов", first_name="Пётр", patronymic=None,
                  status=PrisonerStatus.RELEASED, accepts_letters=False)  # fmt: skip
    tokens = []
    answered = []
    # Six answered letters to the colony: enough reports for medians and percentiles.
    for number in range(6):
        letter = make_letter(gorinov, written=TODAY - timedelta(days=90 + number))
        add_event(letter, EventKind.SENT, TODAY - timedelta(days=80 + number), Channel.POST)
        add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=70 + number))
        if number % 2:
            add_event(letter, EventKind.REPLY, TODAY - timedelta(days=40 + number))
        tokens.append(letter.token)
        answered.append(letter)
    returned = make_letter(gorinov, written=TODAY - timedelta(days=30))
    add_event(returned, EventKind.SENT, TODAY - timedelta(days=29), Channel.REGISTERED)
    add_event(returned, EventKind.RETURNED, TODAY - timedelta(days=5), note="Выбыл")
    fresh = make_letter(gorinov, written=TODAY - timedelta(days=3))
    appeal = make_letter(gorinov, written=TODAY - timedelta(days=40), kind=TemplateKind.APPEAL,
                         official=make_official(colony))  # fmt: skip
    add_event(appeal, EventKind.SENT, TODAY - timedelta(days=39), Channel.REGISTERED)
    tokens += [returned.token, fresh.token, appeal.token]
    # Letters sent through the organisation, waiting for review: for the mailroom's operations.
    open_mailroom()
    handed = [handed_letter(gorinov, body=f"Письмо номер {number}.") for number in range(4)]
    tokens.append(handed[0].token)
    volunteer = make_user(email="volunteer@example.org", role=Role.MAILROOM)
    _token, bearer = create_api_token(volunteer, "fuzzing")
    db.session.commit()
    references = tuple(make_posted_mailroom_letter(gorinov)[2].reference for _ in range(3))
    translator_bearer, translation_ids = make_translation_data(gorinov)
    event_tokens = {
        event.id: letter.token
        for letter in (*answered, returned, appeal)
        for event in letter.events
    }
    return KnownIds(
        {
            "translation_id": translation_ids,
            "prisoner_id": [gorinov.id],
            "facility_id": [colony.id, pretrial.id, empty.id],
            "token": tokens,
            "item_id": [item_for(letter).id for letter in handed],
            "event_id": list(event_tokens),
            **make_run_data(volunteer, gorinov),
        },
        bearer=bearer,
        references=references,
        translator_bearer=translator_bearer,
        event_tokens=event_tokens,
    )


#: The links of the letters at the desk, by translation id: a submission ends the
#: organisation's access to a letter, which `reset_desk` gives back as its writer could.
DESK_LINKS: dict[int, str] = {}


def make_translation_data(prisoner) -> tuple[str, list[int]]:
    """A translator's token, three translations from English and a reply's back into it
    (see `reset_desk`)."""
    translator = make_user(
        email="translator@example.org", role=Role.TRANSLATOR, translates_from="en,ru",
        translates_into="ru,en",
    )  # fmt: skip
    ids = []
    for number in range(3):
        letter = make_letter(prisoner, language="en", body=f"Letter number {number}.")
        db.session.flush()
        letter.share_with_organisers()
        translation = Translation(
            letter=letter, kind=TranslationKind.LETTER, source_language="en", target_language="ru"
        )
        db.session.add(translation)
        db.session.commit()
        ids.append(translation.id)
        DESK_LINKS[translation.id] = letter.token
    reply = Translation(
        letter=letter, kind=TranslationKind.REPLY, source_language="ru", target_language="en"
    )
    db.session.add(reply)
    db.session.commit()
    ids.append(reply.id)
    _token, raw = create_api_token(translator, "fuzzing")
    db.session.commit()
    reset_desk(ids)
    return raw, ids


def reset_desk(ids: list[int]) -> None:
    """The desk as each of its operations finds it: the first translation held by the
    translator with a draft, the second open, the third held without a draft, and a reply's
    held with the copy of its scan (claims, releases and submissions of one operation's
    examples would otherwise leave the next nothing to succeed on)."""
    translator = db.session.scalar(select(User).where(User.role == Role.TRANSLATOR))
    db.session.execute(
        update(Translation)
        .where(Translation.id.in_(ids))
        .values(
            state=TranslationState.OPEN,
            claimed_by_id=None,
            claim_expires_at=None,
            text_encrypted=None,
            submitted_at=None,
            done_at=None,
        )
    )
    db.session.commit()
    db.session.expire_all()
    for translation_id, link in DESK_LINKS.items():
        letter = db.session.get(Translation, translation_id).letter  # type: ignore[union-attr]
        if letter.organisers_key is None:
            letter.unlock(link)
            letter.share_with_organisers()
    now = utcnow()
    desk.claim(translator, ids[0], now)
    desk.save_draft(translator, ids[0], "Письмо номер 0.", now)
    desk.claim(translator, ids[2], now)
    reply = db.session.get(Translation, ids[3])
    assert reply is not None
    if reply.scan_file_id is None:  # a submission deleted it
        reply.scan_file_id = store_file(REPLY_TRANSLATION_SCAN, PNG_AS_PDF, "application/pdf").id
        reply.text_sealed = None
    desk.claim(translator, ids[3], now)
    db.session.commit()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (40, 60), 255).save(out, "PNG")
    return out.getvalue()


PNG = _png()
#: A one-page scan, as the mailroom's upload makes it.
PNG_AS_PDF = clean_scan([ScanPage("page.png", PNG)]).pdf


def make_run_data(volunteer, prisoner) -> dict[str, list[object]]:
    """A print run built from two approved letters, and two approved letters waiting for the
    next: what the print runs' operations answer about."""
    for _ in range(2):
        make_mailroom_letter(prisoner)
    run = runs.start_run(volunteer, PrintRunKind.PAPER)
    db.session.commit()
    run_build.run_print_run(run.id)
    db.session.commit()
    for _ in range(2):
        make_mailroom_letter(prisoner)
    return {"run_id": [run.id], "which": list(runs.FILES)}


class QuietHandler(WSGIRequestHandler):
    """Konvert logs no client addresses; neither does the test server."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@pytest.fixture
def api_server(app: Flask) -> Iterator[tuple[str, KnownIds]]:
    """The API on a real HTTP server on loopback, over a database with data in it."""
    # Fuzzing sends far more than people do: the limits stay on, generous enough not to trip.
    app.config["RATELIMIT_PUBLIC_WRITES"] = "100000 per minute"
    app.config["RATELIMIT_CHECKS"] = "100000 per minute"
    app.config["RATELIMIT_PDF"] = "100000 per minute"
    known = make_api_data()
    # Print runs started by the fuzzing wait for a consumer (none runs): a run built in the
    # request would take longer than an example may.
    app.config["HUEY_IMMEDIATE"] = False
    with served_in_thread(app, request_handler=QuietHandler) as url:
        yield url, known


def test_every_operation_keeps_its_schema(api_server):
    base_url, known = api_server
    statuses: dict[str, set[int]] = {}  # by operation, the statuses of its answers
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 25
    # Deleting last, letters the very last: the other operations need what deletions take away.
    operations.sort(
        key=lambda operation: (
            operation.method.upper() == "DELETE",
            operation.path == "/api/v1/letters/{token}",
        )
    )
    nothing_invalid = set()
    for operation in operations:
        if "/translations" in operation.path:
            reset_desk(known.values["translation_id"])  # type: ignore[arg-type]
        _fuzz(operation, GenerationMode.POSITIVE, known, statuses)
        try:
            _fuzz(operation, GenerationMode.NEGATIVE, known, statuses)
        except Unsatisfiable:
            nothing_invalid.add(operation.label)
    # Their only input is If-None-Match, which any string is.
    assert nothing_invalid == {"GET /api/v1/facilities", "GET /api/v1/stats/facilities"}
    # The data made every operation answer with its success, not only with errors.
    unsuccessful = {name: codes for name, codes in statuses.items() if not codes & SUCCESS}
    assert unsuccessful == {}


def _fuzz(operation, mode: GenerationMode, known: KnownIds, statuses: dict) -> None:
    """Send ``operation`` the cases Schemathesis generates in ``mode``, checking each answer
    and noting its status in ``statuses``."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=timedelta(seconds=2),  # per example: a slow answer under fuzzing is a finding
        database=None,  # nothing written into the work tree
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case) -> None:
        for name, generated in list((case.path_parameters or {}).items()):
            case.path_parameters[name] = known.choose(name, generated)
        event_id = (case.path_parameters or {}).get("event_id")
        if event_id in known.event_tokens and zlib.crc32(repr(event_id).encode()) % 4 != 3:
            case.path_parameters["token"] = known.event_tokens[event_id]  # its own letter's
        if operation.definition.raw.get("security"):
            token = known.translator_bearer if "/translations" in operation.path else known.bearer
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        body = case.body
        positive = mode is GenerationMode.POSITIVE and isinstance(body, dict)
        if positive and operation.definition.raw.get("security") and "received_on" in body:
            _real_mailroom_input(body, known)
        # Nearly every generated date is refused (before the letter, or in the future): today's,
        # half the time, lets reports be recorded and their 201 be checked too.
        if (
            mode is GenerationMode.POSITIVE
            and isinstance(body, dict)
            and "date" in body
            and zlib.crc32(repr(body.get("date")).encode()) % 2
        ):
            body["date"] = TODAY.isoformat()
        response = case.call_and_validate(checks=CHECKS)
        statuses.setdefault(operation.label, set()).add(response.status_code)

    run()


def _real_mailroom_input(body: dict, known: KnownIds) -> None:
    """Half the time, a scan that is an image, a date that can be right and a known code:
    replies and returns are then matched or held, not only refused."""
    if zlib.crc32(repr(sorted(body)).encode() + repr(body.get("received_on")).encode()) % 2:
        return
    body["received_on"] = TODAY.isoformat()
    if "scan" in body:
        body["scan"] = [PNG]
    if "reference" in body or "reason" in body:
        body["reference"] = known.references[zlib.crc32(repr(body).encode()) % 3]


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)  # raises, naming the first problem


def _readme_endpoints() -> set[tuple[str, str]]:
    section = README.read_text().split("## JSON API", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"`(GET|POST|PATCH|DELETE) /api/v1(/[^`?\s]*)", section)
    # <id>, <token> in the README are {prisoner_id}, {facility_id}, {token} in the document.
    return {(method.lower(), re.sub(r"<[^>]+>", "{}", path)) for method, path in found}


def test_every_endpoint_of_the_readme_is_in_the_document(document):
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/api/v1")))
        for path, operations in document["paths"].items()
        for method in operations
    }
    # The document does not list itself among the operations.
    readme = _readme_endpoints() - {("get", "/openapi.json")}
    assert len(readme) == 24
    assert readme <= documented, readme - documented


def _texts(document: dict) -> set[str]:
    """Every English text of the document a person reads on the reference page."""
    found = {document["info"]["description"]}
    found |= {text for tag in document["tags"] for text in (tag["name"], tag["description"])}
    for operations in document["paths"].values():
        for details in operations.values():
            found |= {details["summary"], details["description"]}
            found |= {parameter["description"] for parameter in details["parameters"]}
            for reply in details["responses"].values():
                found.add(reply["description"])
                found |= {header["description"] for header in reply.get("headers", {}).values()}
    for schema in document["components"]["schemas"].values():
        found.add(schema["description"])
        found |= {
            value["description"]
            for value in schema.get("properties", {}).values()
            if "description" in value
        }
    return found


def test_every_text_of_the_document_has_a_russian_translation(app, document):
    from flask_babel import force_locale, gettext

    texts = _texts(document)
    assert len(texts) > 100
    with app.test_request_context(), force_locale("ru"):
        untranslated = sorted(text for text in texts if gettext(text) == text)
    assert untranslated == []


@pytest.mark.parametrize(
    ("language", "heading", "summary"),
    [("en", "Konvert API reference", "A letter's status"),
     ("ru", "Справочник по API Konvert", "Статус письма")],
)  # fmt: skip
def test_the_reference_page_shows_every_operation_in_the_readers_language(
    client, document, language, heading, summary
):
    response = client.get("/api/v1/reference", headers={"Accept-Language": language})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in page
    assert summary.replace("'", "&#39;") in page
    for path, operations in document["paths"].items():
        for method, details in operations.items():
            heading = f'<h3 id="{details["operationId"]}"><code>{method.upper()} {path}</code>'
            assert heading in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # The page links only to itself and the document: no scripts, nothing from elsewhere.
    assert "<script" not in page
    assert 'href="/api/v1/openapi.json"' in page


def test_the_statistics_page_links_to_the_reference(client):
    page = client.get("/stats").get_data(as_text=True)
    assert 'href="/api/v1/reference"' in page


@pytest.mark.parametrize(
    ("method", "url", "payload", "status", "field"),
    [
        ("get", "/api/v1/prisoners?page=abc", None, 400, "page"),
        ("get", "/api/v1/prisoners?facility=99999999999", None, 400, "facility"),
        ("post", "/api/v1/check", {"text": "x", "prisoner_id": 2**40}, 400, "prisoner_id"),
        ("post", "/api/v1/check", {"text": "x", "prisoner_id": True}, 400, "prisoner_id"),
        ("post", "/api/v1/check", {"text": "x", "prisoner_id": 999.0}, 404, "prisoner_id"),
        ("post", "/api/v1/check", {"language": "ru"}, 400, "text"),
    ],
)
def test_the_schemas_refuse_input_naming_the_field(client, method, url, payload, status, field):
    response = getattr(client, method)(url, json=payload)
    assert response.status_code == status
    assert response.get_json()["field"] == field


def test_a_form_is_not_a_json_body(client):
    response = client.post("/api/v1/check", data={"text": "Привет"})
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "invalid",
        "field": "body",
        "message": "Send a JSON object.",
    }


def test_refusals_are_explained_in_the_readers_language(client):
    response = client.get("/api/v1/prisoners?status=free", headers={"Accept-Language": "ru"})
    body = response.get_json()
    assert body["field"] == "status"
    assert "должен быть одним из" in body["message"] and "convicted" in body["message"]
    english = client.get("/api/v1/prisoners?status=free", headers={"Accept-Language": "en"})
    assert english.get_json()["message"].startswith("status must be one of: pretrial")
