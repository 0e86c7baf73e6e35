"""Drives: creation, joining by code or link, balanced assignments, writing, marking sent."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.composer.services import available_templates
from app.drives import printing, services
from app.extensions import db
from app.library.services import sync_templates
from app.models import (
    Assignment,
    Channel,
    Drive,
    EventKind,
    Letter,
    PrintJob,
    PrisonerStatus,
    Role,
)
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import make_facility, make_letter, make_prisoner, make_user
from tests.mailbox import sent_mail

# Writes that must hold on both databases: each test runs on SQLite, then on PostgreSQL.
pytestmark = pytest.mark.both_databases

TODAY = date.today()


@pytest.fixture
def pool(app):
    facility = make_facility()
    names = [("Абрамов", "Пётр"), ("Борисова", "Анна"), ("Васильев", "Иван"), ("Гусева", "Ольга")]
    return [
        make_prisoner(facility, last_name=last, first_name=first, patronymic=None, languages="ru")
        for last, first in names
    ]


def new_drive(organizer, prisoners, target=2, **fields):
    data = services.DriveInput(
        title=fields.get("title", "Вечер писем в Тбилиси"),
        held_on=TODAY,
        place="",
        prisoner_ids=[p.id for p in prisoners],
        template_ids=[],
        target_per_prisoner=target,
    )
    drive = services.create_drive(organizer, data)
    db.session.commit()
    return drive


def test_create_drive_through_the_form(client, organizer, pool):
    log_in(client, organizer)
    page = client.get("/drives/new")
    assert "Абрамов Пётр" in page.get_data(as_text=True)
    response = submit(
        client,
        page,
        {
            "title": "Вечер писем",
            "held_on": TODAY.isoformat(),
            "place": "",
            "target_per_prisoner": "2",
            "prisoner_ids": [str(pool[0].id), str(pool[1].id)],
        },
        action="/drives/new",
    )
    assert response.status_code == 302
    drive = db.session.scalar(select(Drive))
    assert {p.id for p in drive.prisoners} == {pool[0].id, pool[1].id}
    assert len(drive.code) == 6 and len(drive.join_token) >= 24
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert drive.code in html and f"/join/{drive.join_token}" in html


def test_creating_a_drive_needs_prisoners_and_keeps_what_was_typed(client, organizer, pool):
    log_in(client, organizer)
    response = submit(
        client,
        "/drives/new",
        {"title": "Мой вечер", "held_on": TODAY.isoformat(), "target_per_prisoner": "2"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose at least one prisoner" in html and 'value="Мой вечер"' in html
    assert db.session.scalar(select(Drive)) is None


def test_anonymous_people_cannot_see_drives(client, organizer, pool):
    drive = new_drive(organizer, pool)
    for url in ("/drives", "/drives/new", f"/drives/{drive.id}", f"/drives/{drive.id}/stats.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def join(client, drive, name="Аня", languages=("ru",)):
    return submit(
        client, f"/join/{drive.join_token}", {"name": name, "languages": list(languages)}
    )


def test_join_by_code_then_get_assignments(client, organizer, pool):
    drive = new_drive(organizer, pool)
    response = submit(client, "/join", {"code": drive.code.lower()})
    assert response.headers["Location"].endswith(f"/join/{drive.join_token}")
    joined = join(client, drive)
    assert joined.status_code == 302
    html = client.get(joined.headers["Location"]).get_data(as_text=True)
    assert html.count('class="prisoner-card"') == services.FIRST_ASSIGNMENTS
    assert "Абрамов Пётр" in html and "Борисова Анна" in html  # fewest letters, then by name


def test_wrong_code_is_refused_clearly(client, organizer, pool):
    new_drive(organizer, pool)
    response = submit(client, "/join", {"code": "ZZZZZZ"})
    assert response.status_code == 422
    assert "No evening has this code" in response.get_data(as_text=True)


def test_assignments_stay_balanced_and_never_repeat(app, organizer, pool):
    drive = new_drive(organizer, pool, target=2)
    counts: Counter[int] = Counter()
    for index in range(6):
        participant = services.join(drive, f"P{index}", ["ru"])
        mine = [a.prisoner_id for a in participant.assignments]
        assert len(mine) == len(set(mine))
        counts.update(mine)
        # Nobody is above the target while someone is still below it.
        if max(counts.values()) > drive.target_per_prisoner:
            assert min(counts[p.id] for p in pool) >= drive.target_per_prisoner
        assert max(counts.values()) - min(counts[p.id] for p in pool) <= 1
    # Asking for more never gives someone the same prisoner twice.
    first = drive.participants[0]
    while services.assign_next(first) is not None:
        pass
    assert sorted(a.prisoner_id for a in first.assignments) == sorted(p.id for p in pool)


def test_fewest_recent_letters_come_first(app, organizer, pool):
    for _ in range(3):
        make_letter(pool[0])
    make_letter(pool[1], written=TODAY - timedelta(days=200))  # too old to count
    drive = new_drive(organizer, pool)
    participant = services.join(drive, "Марк", ["ru"])
    assigned = [a.prisoner.last_name for a in participant.assignments]
    assert "Абрамов" not in assigned
    assert assigned[0] == "Борисова"


def test_languages_are_respected(app, organizer, pool):
    pool[2].languages = "ru,en"
    db.session.commit()
    drive = new_drive(organizer, pool)
    english_only = services.join(drive, "Mark", ["en"])
    assert [a.prisoner.last_name for a in english_only.assignments] == ["Васильев"]


def test_participant_writes_and_the_letter_belongs_to_the_drive(client, organizer, pool):
    drive = new_drive(organizer, pool)
    joined = join(client, drive)
    participant_url = joined.headers["Location"]
    participant = services.get_participant(participant_url.rsplit("/", 1)[1])
    assignment = participant.assignments[0]
    url = f"{participant_url}/write/{assignment.id}"
    response = submit(
        client,
        url,
        {"template_id": "None", "language": "ru", "signature": "Аня",
         "body": "Здравствуйте! У нас весна.", "save": "1"},
    )  # fmt: skip
    assert response.headers["Location"] == participant_url
    letter = db.session.scalar(select(Letter))
    assert letter.drive_id == drive.id
    assert db.session.get(Assignment, assignment.id).letter_id == letter.id
    back = follow(client, response)
    assert flashed(back) == ["Saved. The organizers will print it with the others."]
    assert "✓" in back.get_data(as_text=True)


def test_other_participants_tokens_are_not_accepted(client, organizer, pool):
    drive = new_drive(organizer, pool)
    participant = services.join(drive, "Аня", ["ru"])
    other = services.join(drive, "Марк", ["ru"])
    db.session.commit()
    assignment = other.assignments[0]
    for url in (f"/drives/p/{participant.token}/write/{assignment.id}", "/drives/p/not-a-token"):
        response = client.get(url)
        assert response.status_code == 404
        assert "There is nothing here." in page_text(response)


def test_mark_batch_sent_records_sent_for_printed_letters_only(client, organizer, pool):
    drive = new_drive(organizer, pool)
    printed = [
        make_letter(prisoner, drive_id=drive.id, printed_at=datetime.now())
        for prisoner in pool[:2]
    ]
    not_printed = make_letter(pool[2], drive_id=drive.id)
    log_in(client, organizer)
    response = submit(
        client,
        f"/drives/{drive.id}",
        {"sent_on": TODAY.isoformat(), "channel": "post"},
        action=f"/drives/{drive.id}/mark-sent",
    )
    assert flashed(follow(client, response)) == ["2 letters marked sent."]
    for letter in [*printed, not_printed]:
        db.session.refresh(letter)
    assert [letter.first_event(EventKind.SENT).channel for letter in printed] == [Channel.POST] * 2
    assert not_printed.first_event(EventKind.SENT) is None
    stats = client.get(f"/drives/{drive.id}/stats.json").get_json()
    assert stats["written"] == 3 and stats["printed"] == 2 and stats["sent"] == 2


def test_invite_by_email_queues_neutral_messages(client, organizer, pool):
    drive = new_drive(organizer, pool)
    log_in(client, organizer)
    response = submit(
        client,
        f"/drives/{drive.id}",
        {"emails": "a@example.org\nnot an address\nb@example.org\n"},
        action=f"/drives/{drive.id}/invite",
    )
    assert flashed(follow(client, response)) == [
        "2 invitations queued.",
        "Not valid addresses: not an address",
    ]
    messages = sent_mail("drive_invitation", language="ru")
    assert [m.recipient for m in messages] == ["a@example.org", "b@example.org"]
    assert "Абрамов" not in messages[0].subject and drive.join_token in messages[0].body_text


def test_admins_see_drives_too(client, pool):
    admin = make_user(email="boss@example.org", role=Role.ADMIN)
    drive = new_drive(admin, pool)
    log_in(client, admin)
    response = client.get(f"/drives/{drive.id}")
    assert response.status_code == 200
    assert "Вечер писем в Тбилиси" in page_text(response)
    assert drive.code in page_text(response)


def start_pack(client, drive):
    return submit(
        client,
        f"/drives/{drive.id}",
        {"envelope": "dl", "sender_country": "Грузия"},
        action=f"/drives/{drive.id}/print",
    )


# Building, downloading, retrying and deleting packs: tests/test_print_jobs.py (on SQLite and
# PostgreSQL) and tests/test_print_consumer.py (with real consumer processes).


def test_no_pack_without_letters(client, organizer, pool):
    drive = new_drive(organizer, pool)
    log_in(client, organizer)
    response = start_pack(client, drive)
    assert flashed(follow(client, response)) == ["No letters have been written at this drive yet."]
    assert db.session.scalar(select(PrintJob)) is None


def test_no_pack_once_every_letter_was_posted(client, organizer, pool):
    drive = new_drive(organizer, pool)
    make_letter(pool[0], drive_id=drive.id, printed_at=datetime.now())
    log_in(client, organizer)
    sent = submit(
        client,
        f"/drives/{drive.id}",
        {"sent_on": TODAY.isoformat(), "channel": "post"},
        action=f"/drives/{drive.id}/mark-sent",
    )
    assert flashed(follow(client, sent)) == ["1 letter marked sent."]
    response = start_pack(client, drive)
    assert flashed(follow(client, response)) == [
        "Every letter of this evening has been posted: there is nothing left to print."
    ]
    assert db.session.scalar(select(PrintJob)) is None


def test_prisoners_without_an_address_are_left_unticked_and_never_assigned(
    client, organizer, pool
):
    moving = make_prisoner(
        None, last_name="Дёмина", first_name="Ольга", patronymic=None,
        status=PrisonerStatus.IN_TRANSIT, languages="ru",
    )  # fmt: skip
    log_in(client, organizer)
    html = client.get("/drives/new").get_data(as_text=True)
    assert "Дёмина Ольга — no known address, in transit: not assigned" in html

    def ticked(prisoner) -> bool:
        tag = re.search(rf'<input[^>]*value="{prisoner.id}"[^>]*>', html)
        assert tag is not None
        return "checked" in tag.group(0)

    assert ticked(pool[0]) and not ticked(moving)

    # Ticked by hand all the same: shown in the drive, but nobody is given them to write to.
    drive = new_drive(organizer, [*pool, moving], target=5)
    for index in range(6):
        participant = services.join(drive, f"P{index}", ["ru"])
        while services.assign_next(participant) is not None:
            pass
    assigned = db.session.scalars(select(Assignment.prisoner_id)).all()
    assert assigned and moving.id not in assigned

    # A letter to someone without an address never goes into a print pack.
    waiting = make_letter(moving, drive_id=drive.id)
    ready = make_letter(pool[0], drive_id=drive.id)
    db.session.commit()
    packed = [letter.id for letter in printing.drive_letters(db.session.get(Drive, drive.id))]
    assert ready.id in packed and waiting.id not in packed


def test_a_participant_signs_with_their_name_and_sees_templates_in_their_languages(
    client, organizer, pool
):
    sync_templates(Path(__file__).resolve().parent.parent / "letters")
    db.session.commit()
    templates = available_templates()
    assert {"ru", "en"} <= {t.language for t in templates}
    data = services.DriveInput(
        title="Вечер писем", held_on=TODAY, place="", prisoner_ids=[p.id for p in pool],
        template_ids=[t.id for t in templates], target_per_prisoner=2,
    )  # fmt: skip
    drive = services.create_drive(organizer, data)
    db.session.commit()
    participant_url = join(client, drive, name="Марина Ц.").headers["Location"]
    participant = services.get_participant(participant_url.rsplit("/", 1)[1])
    page = client.get(f"{participant_url}/write/{participant.assignments[0].id}")
    html = page.get_data(as_text=True)
    assert re.search(r'<input[^>]*name="signature"[^>]*value="Марина Ц."', html)
    offered = re.findall(
        r'<option value="(\d+)"', html.split('name="template_id"')[1].split("</select>")[0]
    )
    russian = {str(t.id) for t in templates if t.language == "ru"}
    assert offered and set(offered) <= russian  # joined writing Russian only
