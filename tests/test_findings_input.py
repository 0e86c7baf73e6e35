"""Issue 13, findings 4, 8 and 9: CSV formulas, tokens in logs, 500s on bad input.

Each test is named after its finding and fails if the finding comes back. The property-based
test throwing generated requests at every route (finding 9) is in test_fuzz_routes.py.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import request
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage

from app import create_app, logredact
from app.csvsafe import guard_cell, guard_text, needs_guard, unguard_cell
from app.models import Channel, EventKind, Role
from tests.conftest import _settings, log_in, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_prisoner, make_user

FORMULAS = ['=HYPERLINK("https://evil.example","x")', "+SUM(1,2)", "-2+3", "@SUM(1)"]
CONTROL_STARTS = ["\t=1+1", "\r=1+1", "\n=1+1", "\x00=1"]


# Finding 4: formula injection in CSV files ----------------------------------------------------


def test_finding_04_guard_neutralises_formulas_and_leaves_numbers(app):
    for text in FORMULAS + CONTROL_STARTS:
        assert guard_text(text) == "'" + text, repr(text)
    for number in ["-3", "+7", "-0.5", "1e3", "-2E-3"]:
        assert guard_text(number) == number  # a number in a spreadsheet either way
    assert guard_cell(-3) == -3 and guard_cell(2.5) == 2.5 and guard_cell(True) is True
    assert guard_text("ИК-3") == "ИК-3"  # a hyphen inside is harmless
    assert guard_text("'=1") == "''=1"  # so that the import knows which quote to remove


@settings(database=None)  # nothing written into the work tree
@given(st.text())
def test_finding_04_unguarding_gives_back_exactly_what_was_guarded(text):
    guarded = guard_text(text)
    assert unguard_cell(guarded) == text
    assert not needs_guard(guarded) or guarded.startswith("'")


def test_finding_04_public_export_writes_no_formula(client, app):
    facility = make_facility(
        code="+SUM(1,2)",
        name='=HYPERLINK("https://evil.example","Open")',
        region="@SUM(A1)",
        country="\t=1+1",
    )
    prisoner = make_prisoner(facility)
    letter = make_letter(prisoner, written=date.today() - timedelta(days=40))
    add_event(letter, EventKind.SENT, date.today() - timedelta(days=40), Channel.POST)
    add_event(letter, EventKind.ARRIVED, date.today() - timedelta(days=30))

    body = client.get("/stats/export.csv").get_data(as_text=True)

    rows = [r for r in csv.DictReader(io.StringIO(body)) if r["facility_id"] == str(facility.id)]
    assert len(rows) == 1
    row = rows[0]
    assert row["facility_code"] == "'+SUM(1,2)"
    assert row["facility_name"] == '\'=HYPERLINK("https://evil.example","Open")'
    assert row["region"] == "'@SUM(A1)"
    assert row["country"] == "'\t=1+1"
    assert row["days_to_delivery"] == "10"  # numbers stay numbers
    for cells in csv.reader(io.StringIO(body)):
        for cell in cells:
            assert not needs_guard(cell) or cell.startswith("'"), cell


def test_finding_04_organizer_export_guards_tab_and_carriage_return(runner):
    # Columns written as stored (ids, postcodes): a tab or CR first went through unguarded.
    make_facility(external_id="\t=1+1", postcode="\r@SUM(1)")

    result = runner.invoke(args=["export", "facilities"])

    cells = next(csv.reader(io.StringIO(result.output.lstrip("\ufeff").split("\n", 1)[1])))
    assert cells[0] == "'\t=1+1"
    assert cells[cells.index("'\r@SUM(1)")] == "'\r@SUM(1)"


def test_finding_04_organizer_export_still_round_trips(runner, tmp_path):
    make_facility(
        external_id="f-1", code="-5", name="@SUM(1)", locality="-2+3", mail_rules="=1\n+2"
    )
    exported = tmp_path / "facilities.csv"
    assert runner.invoke(args=["export", "facilities", "-o", str(exported)]).exit_code == 0

    cells = list(csv.reader(io.StringIO(exported.read_text("utf-8-sig"))))[1]
    assert cells[1:3] == ["-5", "'@SUM(1)"]  # a number stays as it is
    assert "'-2+3" in cells and "'=1\n+2" in cells
    again = runner.invoke(args=["import", "facilities", str(exported)])
    assert "0 created, 0 updated, 1 unchanged, 0 refused" in again.output, again.output


def test_finding_04_every_csv_the_project_writes_uses_the_guard():
    app_folder = Path(__file__).parent.parent / "app"
    writers = [
        path
        for path in app_folder.rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text("utf-8"))
    ]
    assert {p.relative_to(app_folder).as_posix() for p in writers} >= {
        "stats/export.py",
        "imports/export.py",
    }
    for path in writers:
        assert "from app.csvsafe import" in path.read_text("utf-8"), path


# Finding 8: tokens in logs ----------------------------------------------------------------------

# URL variables that are not credentials; any other text variable must be redacted.
NOT_SECRET = {
    ("main.set_language", "code"),
    ("static", "filename"),
    # Which of a print run's three files: letters, envelopes or cover.
    ("mailroom.run_download", "which"),
    ("api.mailroom_run_file", "which"),
    # A report's id, read by the view itself (a bounded <int> on a path with two methods
    # answered 405 instead of 404): a number, never a credential.
    ("api.correct_event", "event_id"),
    ("api.withdraw_event", "event_id"),
}


def _text_variables(app):
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if type(converter).__name__ in {"UnicodeConverter", "PathConverter"}:
                yield rule, name


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Everything logged, formatted with tracebacks, as a server's error log has it."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def test_finding_08_an_error_on_every_token_route_logs_no_token(app, client, log_text):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # log and answer 500, as in production
    app.config["WTF_CSRF_ENABLED"] = False  # so that posts reach the (failing) view
    secret_routes = []
    for rule, name in _text_variables(app):
        if (rule.endpoint, name) in NOT_SECRET:
            continue
        assert logredact.is_secret_variable(name), (
            f"{rule.rule}: name the variable token or …_token, or list it in NOT_SECRET"
        )
        secret_routes.append(rule)
    assert len(secret_routes) >= 15

    sent: list[str] = []
    for rule in secret_routes:

        def fail(**values):
            # Messages quote what failed: the URL, and a value of the token's own shape.
            long = [value for value in values.values() if len(str(value)) > 20]
            raise RuntimeError(f"could not handle {request.url} {long}")

        app.view_functions[rule.endpoint] = fail
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # A tracking token, and a short join code no pattern of tokens would recognise.
            for token in (secrets.token_urlsafe(32), "zq81" + secrets.token_hex(2)):
                values = {
                    name: token if name in {"token"} or name.endswith("_token") else "7"
                    for name in rule.arguments
                }
                path = rule.build(values)[1]
                assert token in path
                response = client.open(path, method=method)
                assert response.status_code == 500
                sent.append(token)

    logged = log_text.getvalue()
    assert logged.count("Exception on ") == len(sent)
    assert logged.count("RuntimeError: could not handle") == len(sent)
    leaked = [token for token in sent if token in logged]
    assert not leaked, f"{len(leaked)} tokens in the log, e.g. {leaked[0]}"
    assert "Exception on /t/[token] [GET]" in logged


def test_finding_08_server_request_lines_are_redacted(app, log_text, caplog):
    caplog.set_level(logging.INFO, "werkzeug")  # as werkzeug and gunicorn set their loggers
    caplog.set_level(logging.INFO, "gunicorn.access")
    token = secrets.token_urlsafe(24)
    request_line = f"GET /drives/p/{token} HTTP/1.1"
    logging.getLogger("werkzeug").info('%s - - [date] "%s" %s -', "127.0.0.1", request_line, 500)
    try:
        raise ValueError(f"no participant {token}")
    except ValueError:
        logging.getLogger("gunicorn.error").exception("Error handling request /join/%s", "K7Q2")
    logging.getLogger("gunicorn.access").info(
        '"GET /password/reset/%s HTTP/1.1" 200 "https://x/invitations/%s"', token, token
    )

    logged = log_text.getvalue()
    assert token not in logged and "K7Q2" not in logged
    assert "GET /drives/p/[token] HTTP/1.1" in logged
    assert "Error handling request /join/[token]" in logged
    assert "ValueError: no participant [token]" in logged


def test_finding_08_child_loggers_and_the_job_consumer_redact_too(migrated_database, tmp_path):
    from app import worker

    huey_logger, konvert = logging.getLogger("huey"), logging.getLogger("konvert")
    before = (list(konvert.handlers), konvert.level, konvert.propagate)
    buffer = io.StringIO()
    consumer_handler = logging.StreamHandler(buffer)  # what huey_consumer sets up
    huey_logger.addHandler(consumer_handler)
    try:
        worker.log_beside_consumer()  # the consumer's start, before any app exists
        token = secrets.token_urlsafe(32)
        logging.getLogger("konvert.mail").warning("could not deliver %s", token)
        create_app("testing", _settings(tmp_path))  # the consumer's app, on its first task
        logging.getLogger("konvert.jobs").error("failed on /unfollow/%s", "abc")
        huey_logger.error("Unhandled exception in task for /t/%s/pdf", "short")
    finally:
        huey_logger.removeHandler(consumer_handler)
        for handler in list(konvert.handlers):
            konvert.removeHandler(handler)
        for handler in before[0]:
            konvert.addHandler(handler)
        konvert.setLevel(before[1])
        konvert.propagate = before[2]

    logged = buffer.getvalue()
    assert "could not deliver [token]" in logged, logged
    assert "failed on /unfollow/[token]" in logged
    assert "/t/[token]/pdf" in logged
    assert token not in logged


# Finding 9: 500s on bad input ---------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("language", ["en", "ru"])
def test_finding_09_deeply_nested_json_to_the_api_is_a_400(client, app, language):
    letter = make_letter(make_prisoner(make_facility()))
    headers = {"Accept-Language": language}
    for path in ["/api/v1/check", f"/api/v1/letters/{letter.token}/events"]:
        response = client.post(path, data=DEEP, content_type="application/json", headers=headers)

        assert response.status_code == 400, path
        body = response.get_json()
        assert body["error"] == "invalid" and body["field"] == "body"
        assert (
            body["message"]
            == {
                "en": "The JSON is nested too deeply.",
                "ru": "В JSON слишком глубокая вложенность.",
            }[language]
        )


@pytest.mark.parametrize("escape", ["\\ud800", "\\u0000"])
def test_finding_09_nul_or_half_a_character_in_api_json_is_a_400(client, app, escape):
    letter = make_letter(make_prisoner(make_facility()))
    today = date.today().isoformat()
    response = client.post(
        f"/api/v1/letters/{letter.token}/events",
        data=f'{{"kind": "sent", "date": "{today}", "channel": "post", "note": "a{escape}"}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"
    assert "NUL, or half of a character" in response.get_json()["message"]
    assert not letter.events  # nothing stored


def test_finding_09_deeply_nested_json_import_is_refused_clearly(client, runner, tmp_path):
    path = tmp_path / "facilities.json"
    path.write_text('{"facilities": ' + DEEP + "}")

    result = runner.invoke(args=["import", "facilities", str(path)])

    assert result.exit_code == 1
    assert "The JSON file is nested too deeply" in result.output
    log_in(client, make_user())
    page = submit(
        client,
        "/manage/import/",
        {"kind": "facilities", "file": FileStorage(io.BytesIO(DEEP.encode()), "x.json")},
        action="/manage/import/preview",
    )
    assert page.status_code == 422
    assert "The JSON file is nested too deeply" in page_text(page)
    path.write_text('{"facilities": [{"external_id": "f\\u0000", "name": "x"}]}')
    result = runner.invoke(args=["import", "facilities", str(path)])
    assert result.exit_code == 1
    assert "for a character no text can hold" in result.output


@pytest.mark.parametrize(
    "next_url", ["/%0d%0aSet-Cookie:%20x=1", "/a%0ab", "/%09/evil.example", "/x%7f"]
)
def test_finding_09_control_characters_in_next_fall_back_safely(client, app, next_url):
    response = client.get(f"/language/ru?next={next_url}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "x=1" not in response.headers.get("Set-Cookie", "")

    log_in(client, make_user())
    response = client.get(f"/login?next={next_url}")
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"] and "evil" not in response.headers["Location"]


NOT_TEXT_EN = "holds characters that are not valid text"
NOT_TEXT_RU = "есть символы, которые не могут быть текстом"


@pytest.mark.parametrize(("language", "expected"), [("en", NOT_TEXT_EN), ("ru", NOT_TEXT_RU)])
def test_finding_09_text_that_is_not_text_is_a_400_in_the_readers_language(
    client, app, language, expected
):
    headers = {"Accept-Language": language}
    # What a server hands over for GET /prisoners/%FF: the byte, as Latin-1 text.
    in_path = client.get("/", headers=headers, environ_overrides={"PATH_INFO": "/prisoners/\xff"})
    in_query = client.get("/prisoners?q=%FF%FE", headers=headers)
    nul_in_query = client.get("/prisoners?q=a%00", headers=headers)
    in_form = client.post(
        "/login",
        data=b"email=%C0%AF&password=x",
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    nul_in_form = client.post(
        "/login", data={"email": "a\x00@example.org", "password": "x"}, headers=headers
    )
    for response in (in_path, in_query, nul_in_query, in_form, nul_in_form):
        assert response.status_code == 400
        assert expected in page_text(response)
    in_api_query = client.get("/api/v1/prisoners?q=%FF", headers=headers)
    assert in_api_query.status_code == 400
    assert in_api_query.get_json()["field"] == "query"
    assert expected in in_api_query.get_json()["message"]
    # Text that is UTF-8 is unaffected: Cyrillic in a query, %-escaped.
    assert client.get("/prisoners?q=%D0%98%D0%B2").status_code == 200


def test_finding_09_nul_in_a_multipart_form_is_a_400(client, app):
    response = client.post(
        "/login",
        data={"email": "a\x00@example.org", "password": "x", "file": (io.BytesIO(b"x"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert NOT_TEXT_EN in page_text(response)


def test_finding_09_nul_in_text_is_a_400_on_postgresql_too(pg_app):
    # PostgreSQL refuses text holding NUL: a search for "a%00" was a 500 there.
    client = pg_app.test_client()
    assert client.get("/prisoners?q=a%00b").status_code == 400
    assert client.get("/manage/prisoners?q=%00").status_code == 400
    assert client.get("/prisoners?q=ab").status_code == 200


def test_finding_09_numbers_no_id_can_be_are_a_404_or_refused(client, app):
    prisoner = make_prisoner(make_facility())
    huge = "99999999999999999999999"
    assert client.get(f"/prisoners/{huge}").status_code == 404
    assert client.get(f"/prisoners?page={huge}").status_code == 400
    assert client.get(f"/api/v1/prisoners?facility={huge}").status_code == 400
    # Found by the fuzzer: ids in form fields reached the database as they were.
    letter_page = submit(
        client, f"/prisoners/{prisoner.id}/write", {"template_id": huge, "body": "Привет"}
    )
    assert letter_page.status_code == 422
    log_in(client, make_user(email="admin@example.org", role=Role.ADMIN))
    drive_page = submit(
        client,
        "/drives/new",
        {
            "title": "Вечер",
            "held_on": date.today().isoformat(),
            "target_per_prisoner": "2",
            "prisoner_ids": [huge],
            "template_ids": [huge],
        },
    )
    assert drive_page.status_code == 422


def test_finding_09_api_json_is_still_read_as_before(client, app):
    response = client.post(
        "/api/v1/check",
        data=json.dumps({"text": "Привет", "language": "ru"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.get_json()["characters"] == 6


def test_finding_09_a_refused_prisoner_form_with_an_unknown_gender_is_shown_again(client, app):
    # Found by the fuzzer: the refused form was shown with Gender("0"), a ValueError.
    log_in(client, make_user())
    page = submit(client, "/manage/prisoners/new", {"last_name": "Ли", "gender": "0"})
    assert page.status_code == 422
    assert "Not a valid choice" in page_text(page)


def test_finding_09_a_blank_channel_in_a_report_is_no_channel(client, app):
    # Found by the fuzzer: "channel= " passed the form (Optional) and Channel(" ") raised.
    letter = make_letter(make_prisoner(make_facility()))
    response = submit(
        client,
        f"/t/{letter.token}",
        {"kind": "sent", "happened_on": date.today().isoformat(), "channel": " "},
        action=f"/t/{letter.token}/events",
    )
    assert response.status_code == 422
    assert "Choose how the letter was sent." in page_text(response)
