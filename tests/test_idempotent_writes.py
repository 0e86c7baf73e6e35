"""Writes that may come twice: the same report again, the same batch marked sent again, a
second print pack asked for while one is built, a write the database refuses; on SQLite and on
PostgreSQL. The same races with real clients at the same moment are in
tests/test_concurrent_writes.py.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.domain import DomainError
from app.drives import printing
from app.drives import services as drive_services
from app.extensions import db
from app.models import (
    Channel,
    Drive,
    EventKind,
    Letter,
    LetterOutcome,
    MailEvent,
    PrintJob,
    PrintJobStatus,
)
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import (
    add_event,
    insert_drive_as_before_privacy_at_rest,
    make_facility,
    make_letter,
    make_prisoner,
    make_user,
)

TODAY = date.today()
THANKS = "Thank you. Your report was recorded."
ALREADY_REPORTED = "This has already been reported for this letter."


@pytest.fixture
def db_app(any_db_app: Flask) -> Flask:
    """The application on SQLite, then on PostgreSQL."""
    return any_db_app


def _events(letter: Letter, kind: EventKind) -> list[MailEvent]:
    db.session.expire_all()
    return [event for event in letter.events if event.kind is kind]


def _drive(prisoners: int = 3) -> tuple[object, Drive]:
    organizer = make_user(email=f"organizer-{uuid.uuid4().hex[:8]}@example.org")
    facility = make_facility(code=f"ИК-{uuid.uuid4().int % 1000}")
    pool = [make_prisoner(facility, last_name=f"Иванов-{n}") for n in range(prisoners)]
    data = drive_services.DriveInput(
        title="Вечер писем",
        held_on=TODAY,
        place="",
        prisoner_ids=[p.id for p in pool],
        template_ids=[],
        target_per_prisoner=2,
    )
    drive = drive_services.create_drive(organizer, data)
    db.session.commit()
    return organizer, drive


def test_the_same_report_again_records_nothing_and_is_answered_alike(db_app):
    letter = make_letter(make_prisoner(make_facility()), TODAY - timedelta(days=20))
    client = db_app.test_client()
    sent_on = (TODAY - timedelta(days=10)).isoformat()
    # As typed: spaces and lower case in the tracking number, spaces around the note.
    typed = {
        "kind": "sent",
        "happened_on": sent_on,
        "channel": "registered",
        "tracking_number": " ra 123456785 ru ",
        "note": "  С уведомлением о вручении. ",
    }
    page, action = f"/t/{letter.token}", f"/t/{letter.token}/events"
    for _ in range(2):
        assert flashed(follow(client, submit(client, page, typed, action=action))) == [THANKS]
    [sent] = _events(letter, EventKind.SENT)
    assert sent.tracking_number == "RA123456785RU"

    # The same report through the API (a client that retries): the first answer again.
    body = {
        "kind": "sent",
        "date": sent_on,
        "channel": "registered",
        "tracking_number": "RA123456785RU",
        "note": "С уведомлением о вручении.",
    }
    answers = [client.post(f"/api/v1/letters/{letter.token}/events", json=body) for _ in "12"]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].get_json() == answers[1].get_json()
    assert answers[0].get_json()["event"]["id"] == sent.id

    # A different report of the same kind is still refused, saying why.
    for changed in ({"happened_on": TODAY.isoformat()}, {"channel": "post"}, {"note": "Другое"}):
        refused = submit(client, page, {**typed, **changed}, action=action)
        assert refused.status_code == 422
        assert ALREADY_REPORTED in page_text(refused)
    changed_api = client.post(
        f"/api/v1/letters/{letter.token}/events", json={**body, "tracking_number": None}
    )
    assert changed_api.status_code == 422
    assert changed_api.get_json()["message"] == ALREADY_REPORTED
    assert len(_events(letter, EventKind.SENT)) == 1

    # Other kinds alike.
    arrived = {"kind": "arrived", "happened_on": TODAY.isoformat()}
    for _ in range(2):
        assert flashed(follow(client, submit(client, page, arrived, action=action))) == [THANKS]
    assert len(_events(letter, EventKind.ARRIVED)) == 1


def test_marking_a_batch_sent_again_records_nothing_more_and_says_the_same(db_app):
    organizer, drive = _drive()
    pool = drive.prisoners
    printed = [
        make_letter(p, TODAY - timedelta(days=5), drive_id=drive.id, printed_at=datetime.now())
        for p in pool
    ]
    # The writer of one letter already reported it sent, on another day: that report stays.
    add_event(printed[2], EventKind.SENT, TODAY - timedelta(days=1), Channel.POST)
    client = db_app.test_client()
    log_in(client, organizer)
    page, action = f"/drives/{drive.id}", f"/drives/{drive.id}/mark-sent"
    fields = {"sent_on": TODAY.isoformat(), "channel": "post"}
    for _ in range(2):
        response = submit(client, page, fields, action=action)
        assert flashed(follow(client, response)) == ["2 letters marked sent."]
    assert [[e.happened_on for e in _events(letter, EventKind.SENT)] for letter in printed] == [
        [TODAY],
        [TODAY],
        [TODAY - timedelta(days=1)],
    ]
    # Another day for the same batch is not the same batch: nothing is marked twice.
    other = {"sent_on": (TODAY - timedelta(days=2)).isoformat(), "channel": "post"}
    response = submit(client, page, other, action=action)
    assert flashed(follow(client, response)) == ["0 letters marked sent."]
    assert [len(_events(letter, EventKind.SENT)) for letter in printed] == [1, 1, 1]


def test_one_print_pack_at_a_time_per_drive(db_app):
    organizer, drive = _drive(prisoners=1)
    make_letter(drive.prisoners[0], drive_id=drive.id)
    first = printing.start_print_job(organizer, drive)
    db.session.commit()
    with pytest.raises(DomainError, match=r"A print pack is already being built\."):
        printing.start_print_job(organizer, drive)
    db.session.rollback()

    # The database refuses a second active job whatever writes it.
    db.session.add(PrintJob(drive_id=drive.id, status=PrintJobStatus.RUNNING))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    # Once the first is done (or failed), the next one may start; finished ones pile up.
    db.session.get_one(PrintJob, first.id).status = PrintJobStatus.FAILED
    db.session.commit()
    second = printing.start_print_job(organizer, drive)
    db.session.commit()
    second.status = PrintJobStatus.DONE
    db.session.commit()
    third = printing.start_print_job(organizer, drive)
    db.session.commit()
    assert third.status is PrintJobStatus.QUEUED and third.total == 1
    jobs = db.session.scalars(select(PrintJob.status).where(PrintJob.drive_id == drive.id))
    assert sorted(jobs) == sorted(
        [PrintJobStatus.FAILED, PrintJobStatus.DONE, PrintJobStatus.QUEUED]
    )


def test_a_second_click_on_build_is_told_the_pack_is_being_built(db_app):
    """Through the page, while the first pack waits in the queue (made here by hand: jobs run
    at once in tests)."""
    organizer, drive = _drive(prisoners=1)
    make_letter(drive.prisoners[0], drive_id=drive.id)
    db.session.add(PrintJob(drive_id=drive.id, status=PrintJobStatus.QUEUED, total=1))
    db.session.commit()
    client = db_app.test_client()
    log_in(client, organizer)
    fields = {"envelope": "dl", "sender_country": ""}
    response = submit(client, f"/drives/{drive.id}", fields, action=f"/drives/{drive.id}/print")
    assert response.status_code == 302
    assert flashed(follow(client, response)) == ["A print pack is already being built."]
    assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 1


def test_a_letter_whose_events_are_all_gone_has_no_outcome(db_app):
    letter = make_letter(make_prisoner(make_facility()), TODAY - timedelta(days=20))
    event = add_event(letter, EventKind.SENT, TODAY - timedelta(days=10), Channel.POST)
    assert db.session.get(LetterOutcome, letter.id).channel is Channel.POST
    add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=2))
    assert db.session.get(LetterOutcome, letter.id).days_to_delivery == 8
    db.session.delete(event)
    db.session.commit()
    outcome = db.session.get(LetterOutcome, letter.id)
    assert outcome.sent_on is None and outcome.date_problem.value == "missing"
    for other in list(letter.events):
        db.session.delete(other)
    db.session.commit()
    assert db.session.get(LetterOutcome, letter.id) is None


def test_the_migration_keeps_the_newest_of_several_active_jobs(db_app):
    """Drives that already have several active jobs (the race, or a consumer that died) keep
    the newest; the older ones are marked failed, "interrupted"."""
    downgrade(revision="0212507e65d8")
    with db.engine.begin() as connection:
        drive_id = insert_drive_as_before_privacy_at_rest(connection)
        other_id = insert_drive_as_before_privacy_at_rest(connection)
    statuses = ["running", "queued", "done", "queued"]
    rows = [{"drive_id": drive_id, "status": status} for status in statuses]
    rows.append({"drive_id": other_id, "status": "running"})
    for row in rows:
        db.session.execute(
            PrintJob.__table__.insert().values(
                **row, total=1, done=0, error="", created_at=datetime.now()
            )
        )
    db.session.commit()
    upgrade()
    found = db.session.execute(
        select(PrintJob.id, PrintJob.status, PrintJob.error).order_by(PrintJob.id)
    ).all()
    assert [(status.value, error) for _, status, error in found] == [
        ("failed", "interrupted"),
        ("failed", "interrupted"),
        ("done", ""),
        ("queued", ""),
        ("running", ""),
    ]


def test_a_write_the_database_refuses_still_gets_its_error_page(db_app):
    """A view whose write fails in the database (as the mark-sent race's did on PostgreSQL)
    answers with the error page, for a logged-in organizer too: the page used to fail in
    turn, reading the account through the failed transaction (PendingRollbackError)."""
    db_app.config["PROPAGATE_EXCEPTIONS"] = False  # log and answer 500, as in production
    organizer, drive = _drive(prisoners=1)

    def clashing_write(drive_id: int) -> str:
        db.session.add(Drive(title="Копия", held_on=TODAY, code=drive.code, join_token="x"))
        db.session.flush()  # the code is taken: IntegrityError
        return "unreachable"

    db_app.view_functions["drives.mark_sent"] = clashing_write
    client = db_app.test_client()
    log_in(client, organizer)
    fields = {"sent_on": TODAY.isoformat(), "channel": "post"}
    action = f"/drives/{drive.id}/mark-sent"
    response = submit(client, f"/drives/{drive.id}", fields, action=action)
    assert response.status_code == 500
    assert "Something went wrong." in page_text(response)
    assert "Log out" in page_text(response)  # the page still knows who is logged in
    assert db.session.scalar(select(func.count()).select_from(Drive)) == 1
