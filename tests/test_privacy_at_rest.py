"""Privacy at rest: the database keeps no link and no letter in clear; organisers read drive
letters only until they are posted; the link holder can delete everything."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.drives import services as drives
from app.extensions import db
from app.models import (
    Assignment,
    Channel,
    Drive,
    EventKind,
    Letter,
    LetterOutcome,
    MailEvent,
    PrintJob,
    ReminderSubscription,
    StoredFile,
)
from app.stored_files import read_file, store_file
from tests.conftest import flashed, follow, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_prisoner

pytestmark = pytest.mark.both_databases

TODAY = date.today()
CANARY_TEXT = "Канарейка-текст-7f3a поёт в клетке"
CANARY_SIGNATURE = "Подпись-Канарейка-91c2"
CANARY_NOTE = "Заметка-канарейка-5d0e"


def every_value(table: str) -> bytes:
    """Every value of every row of ``table``, as bytes, for a search through them."""
    with db.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT * FROM {table}")).all()
    found = bytearray()
    for row in rows:
        for value in row:
            if isinstance(value, bytes | memoryview):
                found += bytes(value)
            elif value is not None:
                found += str(value).encode()
            found += b"\x00"
    return bytes(found)


def whole_database() -> bytes:
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            names = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            names = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        tables = connection.execute(text(names)).scalars().all()
    return b"".join(every_value(table) for table in tables)


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


def write_letter(client, prisoner) -> str:
    """Write a letter through the form as a supporter does; return its private link's token."""
    response = submit(
        client,
        f"/prisoners/{prisoner.id}/write",
        {"template_id": "None", "language": "ru", "signature": CANARY_SIGNATURE,
         "body": f"Здравствуйте! {CANARY_TEXT}.", "save": "1"},
    )  # fmt: skip
    assert response.status_code == 302, page_text(response)
    return response.headers["Location"].split("/t/", 1)[1].split("?", 1)[0]


def test_the_database_keeps_neither_the_link_nor_the_letter(client, prisoner):
    token = write_letter(client, prisoner)
    page = client.get(f"/t/{token}")
    submit(
        client,
        page,
        {"kind": "sent", "happened_on": TODAY.isoformat(), "channel": "post",
         "tracking_number": "", "note": CANARY_NOTE},
        action=f"/t/{token}/events",
    )  # fmt: skip

    stored = whole_database()
    for secret in (token, CANARY_TEXT, CANARY_SIGNATURE, CANARY_NOTE):
        assert secret.encode() not in stored
    # The link holder still reads everything.
    shown = page_text(client.get(f"/t/{token}"))
    assert CANARY_TEXT in shown and CANARY_SIGNATURE in shown and CANARY_NOTE in shown


def test_a_letter_opens_only_with_its_own_link(client, prisoner):
    token = write_letter(client, prisoner)
    other = write_letter(client, prisoner)
    letter = db.session.scalars(select(Letter).order_by(Letter.id)).first()
    with pytest.raises(ValueError, match="not this letter's link"):
        letter.unlock(other)
    assert client.get(f"/t/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}").status_code == 404


def test_times_of_a_supporters_actions_are_kept_to_the_hour(client, prisoner):
    token = write_letter(client, prisoner)
    submit(
        client,
        f"/t/{token}",
        {"kind": "sent", "happened_on": TODAY.isoformat(), "channel": "post",
         "tracking_number": "", "note": ""},
        action=f"/t/{token}/events",
    )  # fmt: skip
    letter = db.session.scalar(select(Letter))
    event = db.session.scalar(select(MailEvent))
    for moment in (letter.created_at, event.reported_at):
        assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


def test_deleting_a_letter_keeps_only_its_anonymous_outcome(client, prisoner):
    token = write_letter(client, prisoner)
    page = client.get(f"/t/{token}")
    submit(
        client,
        page,
        {"kind": "sent", "happened_on": TODAY.isoformat(),
         "channel": "registered", "tracking_number": "RA 123456785 RU", "note": CANARY_NOTE},
        action=f"/t/{token}/events",
    )  # fmt: skip
    submit(
        client,
        f"/t/{token}",
        {"kind": "arrived", "happened_on": TODAY.isoformat(), "confirm_same_day": "y",
         "channel": "", "tracking_number": "", "note": ""},
        action=f"/t/{token}/events",
    )  # fmt: skip
    submit(client, f"/t/{token}", {"email": "canary-reader@example.org"},
           action=f"/t/{token}/reminders")  # fmt: skip
    assert db.session.scalar(select(func.count(ReminderSubscription.id))) == 1

    confirm = client.get(f"/t/{token}/delete")
    assert "What is kept" in page_text(confirm)
    assert "the month it was sent" in page_text(confirm)
    done = submit(client, confirm, {}, action=f"/t/{token}/delete")
    assert flashed(follow(client, done)) == [
        "Your letter was deleted. Its link opens nothing any more."
    ]

    assert client.get(f"/t/{token}").status_code == 404
    assert client.get(f"/api/v1/letters/{token}").status_code == 404
    stored = whole_database()
    for secret in (token, CANARY_TEXT, CANARY_SIGNATURE, CANARY_NOTE, "123456785",
                   "canary-reader@example.org"):  # fmt: skip
        assert secret.encode() not in stored
    assert db.session.scalar(select(func.count(ReminderSubscription.id))) == 0
    outcome = db.session.scalar(select(LetterOutcome))
    assert outcome is not None and outcome.days_to_delivery == 0
    assert outcome.channel is Channel.REGISTERED


def test_the_api_deletes_a_letter_with_its_token(client, prisoner):
    token = write_letter(client, prisoner)
    assert client.delete(f"/api/v1/letters/{token}").status_code == 204
    assert client.delete(f"/api/v1/letters/{token}").status_code == 404
    assert client.get(f"/api/v1/letters/{token}").status_code == 404
    assert db.session.scalar(select(Letter.body_encrypted)) is None


def join_and_write(client, join_token) -> tuple[str, str]:
    joined = submit(client, f"/join/{join_token}", {"name": "Аня", "languages": ["ru"]})
    participant_url = joined.headers["Location"]
    participant = drives.get_participant(participant_url.rsplit("/", 1)[1])
    assignment_id = participant.assignments[0].id
    submit(
        client,
        f"{participant_url}/write/{assignment_id}",
        {"template_id": "None", "language": "ru", "signature": CANARY_SIGNATURE,
         "body": f"Здравствуйте! {CANARY_TEXT}.", "save": "1"},
    )  # fmt: skip
    return participant_url, str(assignment_id)


def test_organisers_read_a_drive_letter_until_its_batch_is_posted(client, organizer, prisoner):
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Вечер", held_on=TODAY, place="", prisoner_ids=[prisoner.id],
            template_ids=[], target_per_prisoner=2,
        ),
    )  # fmt: skip
    drive_id, join_token = drive.id, drive.join_token
    db.session.commit()
    participant_url, _ = join_and_write(client, join_token)
    # The participant's page links the letter: its link is kept for them, encrypted.
    participant_page = client.get(participant_url).get_data(as_text=True)
    link = participant_page.split('href="/t/', 1)[1].split('"', 1)[0]
    assert CANARY_TEXT in page_text(client.get(f"/t/{link}"))

    letter = db.session.scalar(select(Letter))
    assert letter.organisers_key is not None and letter.unlock_for_organisers()
    assert CANARY_TEXT in letter.body
    pack = store_file("print_pack", b"%PDF-1.7 the pack", "application/pdf")
    db.session.add(PrintJob(drive_id=drive_id, status="done", file_id=pack.id))
    letter.printed_at = datetime.now()
    db.session.commit()
    db.session.close()

    organizer = db.session.merge(organizer)
    drives.mark_batch_sent(organizer, db.session.get(Drive, drive_id), TODAY, Channel.POST)
    db.session.commit()
    db.session.close()

    posted = db.session.scalar(select(Letter))
    assert posted.organisers_key is None
    assert not posted.unlock_for_organisers()
    assert db.session.scalar(select(func.count(StoredFile.id))) == 0  # the pack went too
    assert posted.first_event(EventKind.SENT) is not None
    # The writer still reads it with the link.
    assert CANARY_TEXT in page_text(client.get(f"/t/{link}"))


def test_stored_files_are_encrypted_and_read_back(app):
    content = ("Список: " + CANARY_TEXT).encode() * 1000
    stored = store_file("import_upload", content, "text/csv")
    db.session.commit()
    assert CANARY_TEXT.encode() not in every_value("stored_file_chunk")
    assert read_file(stored.id) == content


def test_a_participants_link_is_kept_only_as_a_hash(client, organizer, prisoner):
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Вечер", held_on=TODAY, place="", prisoner_ids=[prisoner.id],
            template_ids=[], target_per_prisoner=2,
        ),
    )  # fmt: skip
    join_token = drive.join_token
    db.session.commit()
    participant_url, _ = join_and_write(client, join_token)
    participant_token = participant_url.rsplit("/", 1)[1]
    stored = whole_database()
    assert participant_token.encode() not in stored
    assert join_token.encode() not in stored
    assert db.session.scalar(select(func.count(Assignment.id))) >= 1


def test_an_event_added_by_a_factory_is_readable_with_the_link(app, prisoner):
    letter = make_letter(prisoner, written=TODAY - timedelta(days=3))
    add_event(letter, EventKind.SENT, TODAY, Channel.POST, note=CANARY_NOTE)
    assert CANARY_NOTE.encode() not in every_value("mail_event")


def test_the_migration_encrypts_existing_letters_with_their_own_links(app, organizer, prisoner):
    from flask_migrate import downgrade, upgrade

    prisoner_id, organizer_id = prisoner.id, organizer.id
    db.session.close()
    downgrade(revision="ad7765f7f3c3")  # before privacy at rest: links and text in clear
    token, drive_token, participant_token = "T" * 43, "J" * 32, "P" * 32
    at = datetime(2026, 3, 1, 10, 37, 12, 345678)
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO drive (id, title, held_on, place, code, join_token, "
                "target_per_prisoner, organizer_id, created_at) VALUES "
                "(1, 'Вечер', :day, '', 'ABC123', :join, 2, :organizer, :at)"
            ),
            {"day": TODAY, "join": drive_token, "organizer": organizer_id, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO letter (id, token, prisoner_id, kind, language, body, signature, "
                "sender_address, drive_id, created_at) VALUES (1, :token, :prisoner, 'letter', "
                "'ru', :body, :signature, NULL, 1, :at)"
            ),
            {"token": token, "prisoner": prisoner_id, "body": CANARY_TEXT,
             "signature": CANARY_SIGNATURE, "at": at},
        )  # fmt: skip
        connection.execute(
            text(
                "INSERT INTO mail_event (id, letter_id, kind, happened_on, reported_at, channel, "
                "tracking_number, note) VALUES (1, 1, 'sent', :day, :at, 'registered', "
                "'RA123456785RU', :note)"
            ),
            {"day": TODAY - timedelta(days=3), "at": at, "note": CANARY_NOTE},
        )
        connection.execute(
            text(
                "INSERT INTO drive_participant (id, drive_id, name, token, languages, joined_at) "
                "VALUES (1, 1, 'Аня', :token, 'ru', :at)"
            ),
            {"token": participant_token, "at": at},
        )
        connection.execute(
            text(
                "INSERT INTO assignment (id, drive_id, participant_id, prisoner_id, letter_id, "
                "created_at) VALUES (1, 1, 1, :prisoner, 1, :at)"
            ),
            {"prisoner": prisoner_id, "at": at},
        )
        if db.engine.dialect.name == "postgresql":
            for table in ("drive", "letter", "mail_event", "drive_participant", "assignment"):
                connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")
                )

    upgrade()

    stored = whole_database()
    for secret in (token, participant_token, drive_token, CANARY_TEXT, CANARY_SIGNATURE,
                   CANARY_NOTE, "RA123456785RU"):  # fmt: skip
        assert secret.encode() not in stored
    assert db.session.scalar(select(func.count(MailEvent.id))) == 1  # no report lost
    letter = db.session.scalar(select(Letter))
    assert letter.created_at == datetime(2026, 3, 1, 10)
    assert letter.organisers_key is None  # reported sent: the writer's alone
    shown = page_text(client_get(app, f"/t/{token}"))
    assert CANARY_TEXT in shown and CANARY_NOTE in shown and "RA123456785RU" in shown
    participant_page = client_get(app, f"/drives/p/{participant_token}").get_data(as_text=True)
    assert f'href="/t/{token}"' in participant_page
    assert client_get(app, f"/join/{drive_token}").status_code == 200


def client_get(app, url):
    return app.test_client().get(url)
