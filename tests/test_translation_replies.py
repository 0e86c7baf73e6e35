"""Replies translated back: a reply to a letter the volunteers translated goes to the desk
(from the prisoner's language into the writer's), the translator reads a copy of the scan
while they work, and once done the translation is sealed to the writer's link and the copy
is deleted. Through the pages, the API, the tracking page and deletion."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from PIL import Image
from sqlalchemy import select

from app.auth.api_tokens import create_api_token
from app.extensions import db
from app.mailroom import incoming
from app.mailroom.scans import ScanPage
from app.models import (
    IncomingMail,
    Role,
    StoredFile,
    Translation,
    TranslationKind,
    TranslationState,
    User,
)
from app.privacy.crypto import encrypt_field, letter_keys, open_sealed
from app.stored_files import read_file
from app.translation import desk
from app.translation.requests import text_context
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import make_facility, make_posted_mailroom_letter, make_prisoner, make_user
from tests.mailbox import sent_mail
from tests.test_mailroom_writer import open_mailroom, subscribe

pytestmark = pytest.mark.both_databases

TODAY = date.today()
ENGLISH = "Dear Alexei,\n\nI am writing to you from Edinburgh.\n"
RUSSIAN = "Дорогой Алексей!\n\nПишу Вам из Эдинбурга.\n"
REPLY_IN_ENGLISH = "Dear Ann,\n\nThank you for your letter from Edinburgh.\n\nAlexei"


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def translator(app):
    return make_user(
        email="anna@example.org", role=Role.TRANSLATOR, translates_from="ru", translates_into="en"
    )


@pytest.fixture
def volunteer(app):
    return make_user(email="post@example.org", role=Role.MAILROOM)


def scan_page() -> list[ScanPage]:
    out = io.BytesIO()
    Image.new("RGB", (300, 420), "white").save(out, "JPEG")
    return [ScanPage("page.jpg", out.getvalue())]


def posted_letter(prisoner, translated: bool = True) -> tuple[int, str, str]:
    """A letter posted through the organisation (in English, translated into Russian by the
    volunteers when ``translated``); returns its id, link and typed reference."""
    open_mailroom()
    letter, token, item = make_posted_mailroom_letter(prisoner, body=ENGLISH)
    letter.language = "en" if translated else "ru"
    if translated:
        translation = Translation(
            letter=letter,
            kind=TranslationKind.LETTER,
            source_language="en",
            target_language="ru",
            state=TranslationState.DONE,
            done_at=datetime(2026, 11, 1, 12, 0),
        )
        db.session.add(translation)
        db.session.flush()
        translation.text_encrypted = encrypt_field(
            letter.content_key(), RUSSIAN, context=text_context(translation)
        )
    db.session.commit()
    return letter.id, token, item.reference


def receive(volunteer: User, reference: str) -> int:
    """The mailroom receives a reply with this reference; returns its id."""
    user = db.session.get(User, volunteer.id)
    assert user is not None
    result = incoming.receive_reply(
        user,
        incoming.ReplyInput(
            files=scan_page(), received_on=TODAY, reference=reference, prisoner_id=None
        ),
        TODAY,
    )
    db.session.commit()
    assert result.incoming.letter_id is not None  # matched
    return result.incoming.id


def reply_translation(app, letter_id: int) -> Translation | None:
    with app.app_context():
        found = db.session.scalar(
            select(Translation).where(
                Translation.letter_id == letter_id, Translation.kind == TranslationKind.REPLY
            )
        )
        if found is not None:
            db.session.expunge(found)
        return found


def bearer(user: User) -> dict[str, str]:
    _token, raw = create_api_token(db.session.get(User, user.id), "desk")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_a_reply_to_a_translated_letter_goes_to_the_desk_back_into_the_writers_language(
    app, prisoner, volunteer
) -> None:
    letter_id, token, reference = posted_letter(prisoner)
    reply_id = receive(volunteer, reference)
    translation = reply_translation(app, letter_id)
    assert translation is not None
    assert (translation.source_language, translation.target_language) == ("ru", "en")
    assert translation.state is TranslationState.OPEN
    assert translation.incoming_mail_id == reply_id
    # The translators' copy is the same scan the writer's link opens.
    assert translation.scan_file_id is not None
    reply = db.session.get(IncomingMail, reply_id)
    assert reply is not None and reply.scan_file_id is not None
    writers_copy = open_sealed(
        letter_keys(token).private_key,
        read_file(reply.scan_file_id),
        context=f"reply-scan:{reply_id}",
    )
    assert read_file(translation.scan_file_id) == writers_copy
    assert writers_copy.startswith(b"%PDF-")


def test_a_reply_to_a_letter_written_in_the_prisoners_language_is_not_translated(
    app, prisoner, volunteer
) -> None:
    letter_id, _token, reference = posted_letter(prisoner, translated=False)
    receive(volunteer, reference)
    assert reply_translation(app, letter_id) is None


def test_each_of_two_replies_is_translated(app, prisoner, volunteer) -> None:
    letter_id, _token, reference = posted_letter(prisoner)
    first, second = receive(volunteer, reference), receive(volunteer, reference)
    found = db.session.scalars(
        select(Translation.incoming_mail_id).where(
            Translation.letter_id == letter_id, Translation.kind == TranslationKind.REPLY
        )
    ).all()
    assert sorted(found) == [first, second]


def test_the_translator_reads_the_scan_and_only_the_writer_reads_the_translation(
    client, app, prisoner, volunteer, translator
) -> None:
    letter_id, token, reference = posted_letter(prisoner)
    receive(volunteer, reference)
    translation = reply_translation(app, letter_id)
    assert translation is not None and translation.scan_file_id is not None
    scan_file_id = translation.scan_file_id

    # The writer is told it is waiting for a translator.
    tracking = page_text(client.get(f"/t/{token}"))
    assert "Waiting for a translator" in tracking.split("Replies", 1)[1]
    assert "translate this reply into English" in tracking

    log_in(client, translator)
    queue = client.get("/translate")
    assert "a prisoner's reply, for its writer" in page_text(queue)
    assert client.get(f"/translate/{translation.id}/scan").status_code == 404  # not claimed
    claimed = submit(client, queue, {}, action=f"/translate/{translation.id}/claim")
    editor = follow(client, claimed)
    text = page_text(editor)
    assert "open the scanned reply" in text and "(1 page, PDF)" in text
    assert "Censor-risk check" not in text  # the translation goes to the writer, not a prison
    scan = client.get(f"/translate/{translation.id}/scan")
    assert scan.status_code == 200 and scan.mimetype == "application/pdf"
    assert scan.get_data().startswith(b"%PDF-")

    done = follow(
        client,
        submit(
            client,
            editor,
            {"text": REPLY_IN_ENGLISH, "action": "submit"},
            action=f"/translate/{translation.id}",
        ),
    )
    assert "Translation done. Thank you!" in flashed(done)

    finished = reply_translation(app, letter_id)
    assert finished is not None and finished.state is TranslationState.DONE
    # Nothing the server can read is left: no instance-key text, no copy of the scan.
    assert finished.text_encrypted is None and finished.scan_file_id is None
    assert db.session.get(StoredFile, scan_file_id) is None
    assert finished.text_sealed is not None
    opened = open_sealed(
        letter_keys(token).private_key, finished.text_sealed, context=text_context(finished)
    )
    assert opened.decode() == REPLY_IN_ENGLISH
    assert client.get(f"/translate/{translation.id}/scan").status_code == 404

    # The writer reads it on the tracking page and through the API.
    client.post("/logout")
    tracking = page_text(client.get(f"/t/{token}"))
    assert "Thank you for your letter from Edinburgh." in tracking
    shown = client.get(f"/api/v1/letters/{token}").json["replies"][0]["translation"]
    assert shown == {"state": "done", "target_language": "en", "text": REPLY_IN_ENGLISH}


def test_the_api_gives_the_holder_the_original_and_the_scan(
    client, app, prisoner, volunteer, translator
) -> None:
    letter_id, _token, reference = posted_letter(prisoner)
    receive(volunteer, reference)
    translation = reply_translation(app, letter_id)
    assert translation is not None
    headers = bearer(translator)
    listed = client.get("/api/v1/translations?from=ru&to=en", headers=headers).json["items"]
    assert [(item["id"], item["kind"], item["original"]) for item in listed] == [
        (translation.id, "reply", None)
    ]
    scan_url = f"/api/v1/translations/{translation.id}/scan"
    assert client.get(scan_url, headers=headers).status_code == 404  # claim it first
    claimed = client.post(f"/api/v1/translations/{translation.id}/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.json["draft"] == ""
    scan = client.get(scan_url, headers=headers)
    assert scan.status_code == 200 and scan.get_data().startswith(b"%PDF-")
    other = make_user(
        email="boris@example.org", role=Role.TRANSLATOR, translates_from="ru", translates_into="en"
    )
    assert client.get(scan_url, headers=bearer(other)).status_code == 404


def test_deleting_the_letter_deletes_the_translators_copy(
    client, app, prisoner, volunteer
) -> None:
    letter_id, token, reference = posted_letter(prisoner)
    receive(volunteer, reference)
    translation = reply_translation(app, letter_id)
    assert translation is not None and translation.scan_file_id is not None
    assert submit(client, f"/t/{token}/delete", {}).status_code == 302
    assert db.session.get(StoredFile, translation.scan_file_id) is None
    assert reply_translation(app, letter_id) is None


def test_what_konvert_keeps_says_how_translations_are_kept(client) -> None:
    text = page_text(client.get("/privacy"))
    assert "A translation by the organisation's volunteers" in text
    assert "once the translation is done, it is locked to your link like the scan" in text


def test_the_writer_hears_there_is_news_when_the_reply_is_translated(
    app, prisoner, volunteer, translator
) -> None:
    letter_id, token, reference = posted_letter(prisoner)
    subscribe(token, language="en")
    receive(volunteer, reference)  # the reply itself is news
    translation = reply_translation(app, letter_id)
    assert translation is not None
    user = db.session.get(User, translator.id)
    desk.claim(user, translation.id, datetime(2026, 12, 7, 12, 0))
    desk.submit(user, translation.id, REPLY_IN_ENGLISH, datetime(2026, 12, 7, 12, 5))
    db.session.commit()
    news = sent_mail("letter_news", language="en")
    assert len(news) == 2
    for mail in news:
        assert f"/t/{token}" in mail.body_text and "Edinburgh" not in mail.body_text
