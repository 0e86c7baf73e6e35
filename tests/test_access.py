"""Who gets what: every route, for anonymous visitors, a tracking-link holder, organizers,
admins, mailroom volunteers and translators. Authorization lives in the services; this walks
the whole URL map to prove it holds."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.routing import Rule

from app.auth.api_tokens import create_api_token
from app.drives import services as drives
from app.extensions import db, limiter
from app.mailroom import services as mailroom
from app.models import OutboxMessage, PrintJob, PrintRun, Role
from tests.conftest import log_in
from tests.factories import make_facility, make_letter, make_official, make_prisoner, make_user
from tests.test_mailroom_writer import handed_letter, open_mailroom

ORGANIZER_ONLY = re.compile(r"^/(manage|drives)(/|$)(?!p/)")
ADMIN_ONLY = re.compile(r"^/admin/")
MAILROOM = re.compile(r"^/mailroom(/|$)")
TRANSLATION_DESK = re.compile(r"^/translate(/|$)")
# The mailroom's and the translation desk's API take personal bearer tokens only: a login
# cookie opens none of it.
STAFF_API = re.compile(r"^/api/v1/(mailroom|translations)(/|$)")
# Making a token needs a role that may hold one; revoking one's own works for every account.
API_TOKENS = re.compile(r"^/account/tokens$")
ACCOUNT = re.compile(r"^/account(/|$)")
ROLES = ["anonymous", "organizer", "admin", "mailroom", "translator"]
#: Which logged-in roles each kind of route serves (anonymous visitors get only public ones).
SERVES = {
    "public": {"organizer", "admin", "mailroom", "translator"},
    "account": {"organizer", "admin", "mailroom", "translator"},
    "tokens": {"organizer", "admin", "mailroom", "translator"},
    "mailroom": {"organizer", "admin", "mailroom"},
    "translation": {"organizer", "admin", "translator"},
    "organizer": {"organizer", "admin"},
    "admin": {"admin"},
    "staff-api": set(),
}
TOKEN_ROUTES = {"/t/<token>", "/api/v1/letters/<token>", "/drives/p/<token>"}


@pytest.fixture
def world(app, organizer, admin, monkeypatch):
    """One of everything, so that every URL can be built with real ids and tokens."""
    app.config["WTF_CSRF_ENABLED"] = False  # this test is about who, not about forms
    monkeypatch.setattr(limiter, "enabled", False)
    facility = make_facility()
    prisoner = make_prisoner(facility)
    official = make_official(facility)
    letter = make_letter(prisoner)
    open_mailroom()
    handed = handed_letter(prisoner)  # sent through the organisation: a mailroom item
    drive = drives.create_drive(
        organizer,
        drives.DriveInput("Вечер", date.today(), "", [prisoner.id], [], 2),
    )
    participant = drives.join(drive, "Аня", ["ru"])
    job = PrintJob(drive_id=drive.id, total=0)
    run = PrintRun(total=0)
    message = OutboxMessage(kind="digest", recipient="x@example.org", subject="s", body_text="b")
    db.session.add_all([job, run, message])
    db.session.commit()
    victim = make_user(email="someone@example.org", role=Role.ORGANIZER)
    token, _raw = create_api_token(victim, "their scanner")  # nobody else may revoke it
    db.session.commit()
    return {
        "token_id": token.id,
        "prisoner_id": prisoner.id,
        "facility_id": facility.id,
        "official_id": official.id,
        "drive_id": drive.id,
        "job_id": job.id,
        "run_id": run.id,
        "which": "letters",
        "assignment_id": participant.assignments[0].id,
        "message_id": message.id,
        "user_id": victim.id,
        "item_id": mailroom.item_for(handed).id,
        "translation_id": 1,  # no such translation: refused, or not found
        "incoming_id": 1,  # no such reply: refused, or not found
        "reply_id": 1,
        "event_id": 1,  # no such event: not found
        "kind": "prisoners",
        "file_format": "csv",
        "code": "en",
        "filename": "css/konvert.css",
        "letter_token": letter.token,
        "participant_token": participant.token,
        "join_token": drive.join_token,
    }


def url_for_rule(rule: Rule, world: dict) -> str:
    values = {}
    for argument in rule.arguments:
        if argument == "token":
            if rule.rule.startswith(("/t/", "/api/v1/letters/")):
                values[argument] = world["letter_token"]
            elif rule.rule.startswith("/drives/p/"):
                values[argument] = world["participant_token"]
            elif rule.rule.startswith("/join/"):
                values[argument] = world["join_token"]
            else:
                values[argument] = "x" * 43  # invitations, resets, unsubscribes: unknown
        else:
            values[argument] = world[argument]
    return rule.build(values, append_unknown=False)[1]


def requests_to_make(app, world):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, url_for_rule(rule, world)


def kind_of(rule: Rule) -> str:
    for kind, pattern in (
        ("admin", ADMIN_ONLY),
        ("organizer", ORGANIZER_ONLY),
        ("mailroom", MAILROOM),
        ("translation", TRANSLATION_DESK),
        ("staff-api", STAFF_API),
        ("tokens", API_TOKENS),
        ("account", ACCOUNT),
    ):
        if pattern.match(rule.rule):
            return kind
    return "public"


def sent_to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


def readable(response) -> str:
    """A page's text, or a JSON answer with its non-ASCII letters as they are."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def refused_to(role: str, kind: str) -> bool:
    """Whether the design refuses this role every route of this kind."""
    if role == "anonymous":
        return kind != "public"
    return role not in SERVES[kind]


def refusal_problem(role: str, kind: str, response) -> str | None:
    """What is wrong with the answer to a request the design refuses (None: refused right).

    Anonymous visitors are sent to the login page, a logged-in account its role may not use
    gets 403, and the bearer-token API answers 401 to a request without a token."""
    status = response.status_code
    if kind == "staff-api":
        return None if status == 401 else f"{role} got {status}, not 401"
    if role == "anonymous":
        return None if sent_to_login(response) else f"anonymous got {status}, not the login page"
    return None if status == 403 else f"{role} got {status}, not 403"


def database_rows() -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused request changed nothing."""
    return {
        table.name: sorted(map(tuple, db.session.execute(select(table))), key=repr)
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_designed(app, client, world, organizer, admin, role):
    accounts = {
        "organizer": organizer,
        "admin": admin,
        "mailroom": make_user(email="mailroom@example.org", role=Role.MAILROOM),
        "translator": make_user(email="translator@example.org", role=Role.TRANSLATOR),
    }
    if role in accounts:
        log_in(client, accounts[role])
    problems = []
    for rule, method, url in requests_to_make(app, world):
        if rule.endpoint == "auth.logout":
            continue  # would end the session this walk relies on; tested in test_auth
        kind = kind_of(rule)
        # A refused GET writes nothing anyway (the test client checks every GET for that).
        before = database_rows() if refused_to(role, kind) and method != "GET" else None
        response = client.open(url, method=method, data={})
        response.close()
        status = response.status_code
        if status >= 500:
            problems.append(f"{method} {url}: {status}")
        elif refused_to(role, kind):
            if problem := refusal_problem(role, kind, response):
                problems.append(f"{method} {url}: {problem}")
        elif sent_to_login(response) or status in (401, 403):
            problems.append(f"{method} {url}: {role} refused with {status}")
        if before is not None and database_rows() != before:
            problems.append(f"{method} {url}: refused to {role}, yet the database changed")
    assert problems == []


def test_tracking_links_are_the_only_credential(app, client, world):
    """Whoever holds a private link gets its letter (or assignments), nobody else."""
    for rule in TOKEN_ROUTES:
        right = rule.replace(
            "<token>",
            world["participant_token"] if rule.startswith("/drives/p/") else world["letter_token"],
        )
        wrong = rule.replace("<token>", "y" * 43)
        # What the link opens: the letter, its state, or the participant's assigned prisoners.
        secret = {
            "/t/<token>": "Пишу Вам из Тбилиси.",
            "/api/v1/letters/<token>": '"status": "written"',
            "/drives/p/<token>": "Горинов",
        }[rule]
        opened = client.get(right)
        assert opened.status_code == 200, right
        assert secret in readable(opened), right
        refused = client.get(wrong)
        assert refused.status_code == 404, wrong
        assert secret not in readable(refused), wrong
    # Holding a letter's link opens nothing for organizers.
    assert sent_to_login(client.get("/manage"))
    assert sent_to_login(client.get(f"/drives/{world['drive_id']}"))
