"""The mailroom's review: the /mailroom desk and its decisions, and the same in the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.api_tokens import create_api_token
from app.domain import DomainError
from app.extensions import db
from app.mailroom import services as mailroom
from app.mailroom.reference import format_reference
from app.models import Letter, MailroomItem, MailroomState, Role
from tests.conftest import count_queries, flashed, follow, log_in, page_text, submit
from tests.factories import make_facility, make_letter, make_prisoner, make_user
from tests.test_mailroom_writer import handed_letter, open_mailroom

pytestmark = pytest.mark.both_databases

RISKY = "Дорогой Алексей!\n\nКак прошёл суд? Держитесь.\n"
PLAIN = "Дорогой Алексей!\n\nУ нас цветут абрикосы.\n"


@pytest.fixture
def prisoner(app):
    open_mailroom()
    return make_prisoner(make_facility(), notes_for_writers="Любит письма о природе.")


@pytest.fixture
def volunteer(app):
    return make_user(email="volunteer@example.org", role=Role.MAILROOM)


def item_of(letter: Letter) -> MailroomItem:
    db.session.expire_all()
    item = db.session.scalar(select(MailroomItem).where(MailroomItem.letter_id == letter.id))
    assert item is not None
    return item


def test_the_desk_is_for_mailroom_volunteers_organizers_and_admins(client, app, admin):
    assert "/login" in client.get("/mailroom").headers["Location"]
    translator = make_user(email="translator@example.org", role=Role.TRANSLATOR)
    log_in(client, translator)
    assert client.get("/mailroom").status_code == 403
    for email, role in (("v@example.org", Role.MAILROOM), ("o@example.org", Role.ORGANIZER)):
        log_in(client, make_user(email=email, role=role))
        assert client.get("/mailroom").status_code == 200
    log_in(client, admin)
    assert client.get("/mailroom").status_code == 200


def test_the_desk_lists_letters_in_review_oldest_first_with_findings_and_notes(
    client, prisoner, volunteer
):
    older = handed_letter(prisoner, body=RISKY)
    newer = handed_letter(prisoner, body=PLAIN)
    item_of(newer).submitted_at = item_of(older).submitted_at + timedelta(hours=1)
    approved = handed_letter(prisoner, body="Третье письмо.")
    mailroom.decide(volunteer, item_of(approved), mailroom.Decision.APPROVE)
    db.session.commit()
    log_in(client, volunteer)
    page = page_text(client.get("/mailroom"))
    assert page.index("Держитесь.") < page.index("У нас цветут абрикосы.")
    assert "Третье письмо." not in page  # decided already
    assert format_reference(item_of(older).reference) in page
    assert "Любит письма о природе." in page  # the prisoner's notes for writers
    assert "High risk" in page or "Medium risk" in page  # the court is a censor risk
    assert "Waiting for review 2" in page and "Approved 1" in page and "Rejected 0" in page


def decide(client, item: MailroomItem, decision: str, reason: str = ""):
    return submit(
        client, "/mailroom", {"decision": decision, "reason": reason},
        action=f"/mailroom/letters/{item.id}/review",
    )  # fmt: skip


def test_approve(client, prisoner, volunteer):
    letter = handed_letter(prisoner)
    log_in(client, volunteer)
    response = decide(client, item_of(letter), "approve")
    assert response.status_code == 302
    reference = format_reference(item_of(letter).reference)
    assert flashed(follow(client, response)) == [f"Letter {reference} approved."]
    item = item_of(letter)
    assert item.state is MailroomState.APPROVED
    assert item.reviewer_id == volunteer.id and item.reviewed_at is not None


def test_send_back_needs_a_reason_the_writer_alone_reads(client, prisoner, volunteer):
    letter = handed_letter(prisoner)
    token = letter.token
    log_in(client, volunteer)
    refused = decide(client, item_of(letter), "send_back", "  ")
    assert flashed(follow(client, refused)) == ["Tell the writer what to change."]
    assert item_of(letter).state is MailroomState.REVIEW
    decide(client, item_of(letter), "send_back", "Пожалуйста, без слов о суде.")
    item = item_of(letter)
    assert item.state is MailroomState.SENT_BACK
    assert mailroom.writer_reason(item, token) == "Пожалуйста, без слов о суде."
    assert "без слов о суде".encode() not in bytes(item.writer_reason_sealed)


def test_reject_needs_a_reason_kept_for_organizers_and_ends_their_reading(
    client, prisoner, volunteer
):
    letter = handed_letter(prisoner)
    log_in(client, volunteer)
    refused = decide(client, item_of(letter), "reject")
    assert flashed(follow(client, refused)) == ["Say why, for the other organizers."]
    decide(client, item_of(letter), "reject", "Угрозы.")
    item = item_of(letter)
    assert item.state is MailroomState.REJECTED
    assert "Угрозы".encode() not in bytes(item.rejection_reason_encrypted)
    assert mailroom.rejection_reason(volunteer, item) == "Угрозы."
    assert item.letter.organisers_key is None


def test_only_a_letter_in_review_can_be_decided(client, prisoner, volunteer):
    letter = handed_letter(prisoner)
    log_in(client, volunteer)
    page = client.get("/mailroom")  # two volunteers on the same page: the second is late
    action = f"/mailroom/letters/{item_of(letter).id}/review"
    submit(client, page, {"decision": "approve"}, action=action)
    again = submit(client, page, {"decision": "reject", "reason": "Спам."}, action=action)
    assert "This letter is no longer waiting for review." in flashed(follow(client, again))
    assert item_of(letter).state is MailroomState.APPROVED
    with pytest.raises(DomainError):
        mailroom.decide(volunteer, item_of(letter), mailroom.Decision.SEND_BACK, "Нет.")


def test_a_letter_deleted_by_its_writer_is_not_reviewed(client, prisoner, volunteer):
    letter = handed_letter(prisoner)
    submit(client, f"/t/{letter.token}/delete", {})
    log_in(client, volunteer)
    assert "No letters are waiting for review." in page_text(client.get("/mailroom"))


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def bearer(volunteer):
    _token, raw = create_api_token(volunteer, "scanner")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_the_api_lists_letters_by_state_with_findings(client, prisoner, volunteer, bearer):
    risky = handed_letter(prisoner, body=RISKY)
    approved = handed_letter(prisoner, body=PLAIN)
    mailroom.decide(volunteer, item_of(approved), mailroom.Decision.APPROVE)
    db.session.commit()
    response = client.get("/api/v1/mailroom/letters", headers=bearer)
    assert response.status_code == 200
    (only,) = response.get_json()["items"]
    item = item_of(risky)
    assert only["id"] == item.id
    assert only["reference"] == format_reference(item.reference)
    assert only["state"] == "review"
    assert only["prisoner_id"] == prisoner.id
    assert only["facility_id"] == prisoner.current_facility.id
    assert only["language"] == "ru"
    assert any(RISKY[f["start"] : f["end"]] for f in only["findings"])
    listed = client.get("/api/v1/mailroom/letters?state=approved", headers=bearer).get_json()
    assert [entry["id"] for entry in listed["items"]] == [item_of(approved).id]
    assert "text" not in only and "body" not in only


def test_the_api_needs_a_token_of_the_mailroom(client, prisoner):
    handed_letter(prisoner)
    response = client.get("/api/v1/mailroom/letters")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/api/v1/mailroom/letters", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_the_api_decides(client, prisoner, bearer):
    first, second, third = (handed_letter(prisoner) for _ in range(3))
    url = "/api/v1/mailroom/letters/{}/review"
    approved = client.post(
        url.format(item_of(first).id), json={"decision": "approve"}, headers=bearer
    )
    assert approved.status_code == 200
    assert approved.get_json()["state"] == "approved"
    no_reason = client.post(
        url.format(item_of(second).id), json={"decision": "send_back"}, headers=bearer
    )
    assert no_reason.status_code == 422
    assert no_reason.get_json()["field"] == "reason"
    sent_back = client.post(
        url.format(item_of(second).id),
        json={"decision": "send_back", "reason": "Короче, пожалуйста."},
        headers=bearer,
    )
    assert sent_back.get_json()["state"] == "sent_back"
    assert mailroom.writer_reason(item_of(second), second.token) == "Короче, пожалуйста."
    rejected = client.post(
        url.format(item_of(third).id),
        json={"decision": "reject", "reason": "Спам"},
        headers=bearer,
    )
    assert rejected.get_json()["state"] == "rejected"
    again = client.post(
        url.format(item_of(first).id), json={"decision": "approve"}, headers=bearer
    )
    assert again.status_code == 422
    assert again.get_json()["field"] == "decision"
    unknown = client.post(url.format(999999), json={"decision": "approve"}, headers=bearer)
    assert unknown.status_code == 404
    invalid = client.post(
        url.format(item_of(first).id), json={"decision": "maybe"}, headers=bearer
    )
    assert invalid.status_code == 422 and invalid.get_json()["field"] == "decision"


def test_the_api_refuses_decisions_without_a_token(client, prisoner):
    letter = handed_letter(prisoner)
    response = client.post(
        f"/api/v1/mailroom/letters/{item_of(letter).id}/review", json={"decision": "approve"}
    )
    assert response.status_code == 401
    assert item_of(letter).state is MailroomState.REVIEW


def test_a_drive_letter_does_not_travel_through_the_mailroom(app, prisoner):
    letter = make_letter(prisoner)
    letter.unlock(letter.token)
    letter.drive_id = 1  # as if written at a drive (no row needed for the check)
    with pytest.raises(DomainError):
        mailroom.hand_to_organisation(letter)


def test_the_desk_asks_the_database_the_same_number_of_times_for_any_number_of_letters(
    client, prisoner, volunteer
):
    handed_letter(prisoner)
    log_in(client, volunteer)
    few = count_queries(client, "/mailroom")
    for number in range(4):  # to other prisoners, in another facility
        other = make_prisoner(
            make_facility(code=f"ИК-{number + 10}", name=f"ФКУ ИК-{number + 10}"),
            last_name=f"Петров{number}",
            notes_for_writers="Пишите о книгах.",
        )
        handed_letter(other)
    assert count_queries(client, "/mailroom") == few
