"""The writer's side of translation: the write page's offer, the translation request and the
mailroom state, the tracking page through the desk's states, the note to the translator, and
the printed letter carrying the translation instead of the original."""

from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.mailroom import services as mailroom
from app.mailroom.organisation import organisation_for_update
from app.models import (
    Letter,
    MailroomItem,
    MailroomState,
    PrintRun,
    Translation,
    TranslationKind,
    TranslationState,
)
from app.models.letter import letter_link_hash
from app.privacy.crypto import encrypt_field
from app.translation.flow import letter_translated
from app.translation.requests import text_context
from tests.conftest import log_in, page_text, submit
from tests.factories import make_facility, make_prisoner
from tests.test_mailroom_runs import two_facilities
from tests.test_mailroom_writer import open_mailroom, token_of

pytestmark = pytest.mark.both_databases

ENGLISH = "Dear Alexei,\n\nI am writing to you from Edinburgh. The apricot trees are in bloom.\n"
RUSSIAN = "Дорогой Алексей!\n\nПишу Вам из Эдинбурга. Цветут абрикосовые деревья.\n"
LINE = "Перевод с английского выполнен волонтёрами организации «Письма свободы»."
NOTE = "Alexei is a teacher; please keep the joke about apricots."


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility(), languages="ru")


def write(client, prisoner, *, delivery="organisation", translate=True, note="", language="en"):
    data = {
        "template_id": "None",
        "language": language,
        "signature": "Anna",
        "body": ENGLISH,
        "delivery": delivery,
        "save": "1",
    }
    if translate:
        data["translate"] = "yes"
        data["translator_note"] = note
    return submit(client, f"/prisoners/{prisoner.id}/write", data)


def letter_of(token: str) -> Letter:
    letter = db.session.scalar(select(Letter).where(Letter.token_hash == letter_link_hash(token)))
    assert letter is not None
    letter.unlock(token)
    return letter


def translation_of(token: str) -> Translation:
    letter = letter_of(token)
    translation = db.session.scalar(select(Translation).where(Translation.letter_id == letter.id))
    assert translation is not None
    return translation


def finish(token: str, text: str = RUSSIAN) -> None:
    """What the desk does when a translator's work is done (the desk is built elsewhere)."""
    letter = letter_of(token)
    translation = translation_of(token)
    translation.text_encrypted = encrypt_field(
        letter.content_key(), text, context=text_context(translation)
    )
    translation.state = TranslationState.DONE
    letter_translated(translation)
    db.session.commit()


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    reader = PdfReader(io.BytesIO(response.data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def preview_in_english(client, prisoner) -> str:
    page = f"/prisoners/{prisoner.id}/write"
    data = {"template_id": "None", "language": "en", "signature": "Anna", "body": ENGLISH}
    return page_text(submit(client, page, {**data, "preview": "1"}))


# --- the write page ---------------------------------------------------------------------------


def test_the_write_page_says_why_the_language_matters_and_offers_translation(client, prisoner):
    open_mailroom()
    page = preview_in_english(client, prisoner)
    assert "This person is not known to read this language." in page
    assert "waits for a translator in the prison, or never arrives" in page
    assert "Have it translated by Письма свободы's volunteers" in page
    # In Russian, the prisoner's language: no offer.
    russian = page_text(client.get(f"/prisoners/{prisoner.id}/write"))
    assert "Have it translated" not in russian


def test_no_translation_offered_while_the_mailroom_is_closed(client, prisoner):
    page = preview_in_english(client, prisoner)
    assert "This person is not known to read this language." in page
    assert "Have it translated" not in page


def test_a_letter_through_the_organisation_waits_for_its_translation(client, prisoner):
    open_mailroom()
    response = write(client, prisoner, note=NOTE)
    assert response.status_code == 302
    token = token_of(response)
    with db.session.no_autoflush:
        translation = translation_of(token)
        assert translation.kind is TranslationKind.LETTER
        assert (translation.source_language, translation.target_language) == ("en", "ru")
        assert translation.state is TranslationState.OPEN
        letter = letter_of(token)
        item = mailroom.item_for(letter)
        assert item is not None and item.state is MailroomState.TRANSLATION
        assert letter.organisers_key is not None  # the translators can read it
    # The note is encrypted with the letter's key: not in the database in clear.
    with db.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT note_encrypted FROM translation").scalar_one()
    assert raw and b"apricots" not in bytes(raw)
    finish(token)
    with db.session.no_autoflush:
        item = mailroom.item_for(letter_of(token))
        assert item is not None and item.state is MailroomState.REVIEW


def test_a_writer_who_posts_it_can_ask_for_a_translation_only(client, prisoner):
    open_mailroom()
    response = write(client, prisoner, delivery="self")
    assert response.status_code == 302
    token = token_of(response)
    with db.session.no_autoflush:
        letter = letter_of(token)
        assert mailroom.item_for(letter) is None
        assert translation_of(token).state is TranslationState.OPEN
        assert letter.organisers_key is not None
    finish(token)
    with db.session.no_autoflush:
        # Done: the desk no longer reads a letter the organisation does not post.
        assert letter_of(token).organisers_key is None


def test_translation_is_refused_when_the_mailroom_closed_or_the_language_is_the_same(
    client, prisoner
):
    open_mailroom()
    same = write(client, prisoner, language="ru")
    assert same.status_code == 422
    assert "reads the language of your letter: it needs no translation" in page_text(same)
    page = client.get(f"/prisoners/{prisoner.id}/write")
    organisation = organisation_for_update()
    organisation.mailroom_open = False
    db.session.commit()
    data = {
        "template_id": "None",
        "language": "en",
        "signature": "Anna",
        "body": ENGLISH,
        "delivery": "self",
        "translate": "yes",
        "save": "1",
    }
    closed = submit(client, page, data, action=f"/prisoners/{prisoner.id}/write")
    assert closed.status_code == 422
    assert "its volunteers cannot translate yours" in page_text(closed)
    assert db.session.scalar(select(Translation.id)) is None
    assert db.session.scalar(select(Letter.id)) is None


def test_a_too_long_note_is_refused(client, prisoner):
    open_mailroom()
    response = write(client, prisoner, note="x" * 501)
    assert response.status_code == 422
    assert db.session.scalar(select(Translation.id)) is None


# --- the tracking page ------------------------------------------------------------------------


def set_state(token: str, state: TranslationState) -> None:
    translation_of(token).state = state
    db.session.commit()


def test_the_tracking_page_follows_the_translation(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner))
    page = page_text(client.get(f"/t/{token}"))
    assert "Waiting for a translator" in page
    assert "it goes to review once the translation is done" in page
    assert "Volunteers of Письма свободы translate your letter into Russian" in page
    set_state(token, TranslationState.CLAIMED)
    assert "Being translated" in page_text(client.get(f"/t/{token}"))
    set_state(token, TranslationState.SUBMITTED)
    assert "Translated, waiting for a second translator" in page_text(client.get(f"/t/{token}"))
    set_state(token, TranslationState.OPEN)
    finish(token)
    page = page_text(client.get(f"/t/{token}"))
    assert "Translated" in page
    assert "a translation by Письма свободы's volunteers" in page
    assert "Пишу Вам из Эдинбурга." in page
    assert "Your note to the translator" not in page  # no more notes once done


def test_the_writer_adds_and_replaces_the_note_while_it_is_translated(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner, delivery="self"))
    page = client.get(f"/t/{token}")
    assert "Your note to the translator" in page_text(page)
    action = f"/t/{token}/translation/note"
    saved = submit(client, page, {"note": NOTE}, action=action)
    assert saved.status_code == 302
    assert NOTE in page_text(client.get(f"/t/{token}"))
    with db.engine.connect() as connection:
        raw = connection.exec_driver_sql("SELECT note_encrypted FROM translation").scalar_one()
    assert b"apricots" not in bytes(raw)
    replaced = submit(client, f"/t/{token}", {"note": "Only this."}, action=action)
    assert replaced.status_code == 302
    page = page_text(client.get(f"/t/{token}"))
    assert "Only this." in page and NOTE not in page
    too_long = submit(client, f"/t/{token}", {"note": "x" * 501}, action=action)
    assert too_long.status_code == 422
    # Without the page's CSRF token, nothing changes.
    assert client.post(action, data={"note": "forged"}).status_code == 400
    assert "forged" not in page_text(client.get(f"/t/{token}"))


def test_a_self_delivery_writer_is_told_the_translation_is_not_ready(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner, delivery="self"))
    page = page_text(client.get(f"/t/{token}"))
    assert "The translation is not ready yet." in page
    assert "Download PDF with a DL envelope" in page  # printing the original stays possible
    finish(token)
    page = page_text(client.get(f"/t/{token}"))
    assert "The translation is not ready yet." not in page
    assert "The PDF carries the translation, not your original." in page


def test_deleting_a_letter_withdraws_it_from_the_desk_with_its_note(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner, note=NOTE))
    response = submit(client, f"/t/{token}/delete", {})
    assert response.status_code == 302
    assert db.session.scalar(select(Translation.id)) is None
    assert db.session.scalar(select(MailroomItem.id)) is None


def test_the_reviewer_reads_the_translation_as_it_is_printed(client, prisoner, organizer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    finish(token)
    log_in(client, organizer)
    page = page_text(client.get("/mailroom"))
    assert "The volunteers' translation, as it is printed" in page
    assert "Пишу Вам из Эдинбурга." in page and LINE in page
    assert "Edinburgh" not in page


# --- printing ---------------------------------------------------------------------------------


def test_the_pdf_prints_the_translation_and_never_the_original(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner, delivery="self"))
    before = pdf_text(client.get(f"/t/{token}/pdf?envelope=none"))
    assert "Edinburgh" in before and LINE not in before  # not ready: the original, warned
    finish(token)
    text = pdf_text(client.get(f"/t/{token}/pdf?envelope=none"))
    assert "Пишу Вам из Эдинбурга." in text
    assert LINE in text
    assert "Edinburgh" not in text and "apricot" not in text


def test_a_print_run_prints_the_translation(client, prisoner, organizer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    finish(token)
    item = mailroom.item_for(letter_of(token))
    assert item is not None and item.state is MailroomState.REVIEW
    item.state = MailroomState.APPROVED
    db.session.commit()
    log_in(client, organizer)
    answer = submit(
        client, "/mailroom/runs", {"kind": "paper", "envelope": "dl", "all_approved": "1"}
    )
    assert answer.status_code == 302
    run_id = db.session.scalar(select(PrintRun.id))
    text = pdf_text(client.get(f"/mailroom/runs/{run_id}/letters"))
    assert "Пишу Вам из Эдинбурга." in text
    assert LINE in text
    assert "Edinburgh" not in text


def test_an_electronic_run_sends_the_translation(client, organizer):
    open_mailroom()
    _colony, moscow = two_facilities()
    in_moscow = make_prisoner(moscow, last_name="Иванова", first_name="Анна", patronymic=None)
    token = token_of(write(client, in_moscow))
    finish(token)
    item = mailroom.item_for(letter_of(token))
    assert item is not None
    item.state = MailroomState.APPROVED
    db.session.commit()
    log_in(client, organizer)
    submit(client, "/mailroom/runs", {"kind": "electronic", "all_approved": "1"})
    run_id = db.session.scalar(select(PrintRun.id))
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/mailroom/runs/{run_id}/letters").data))
    text = " ".join(archive.read(name).decode() for name in archive.namelist())
    assert "Пишу Вам из Эдинбурга." in text and LINE in text
    assert "Edinburgh" not in text


# --- the API ----------------------------------------------------------------------------------


def test_the_letter_api_shows_the_translation(client, prisoner):
    open_mailroom()
    plain = token_of(write(client, prisoner, translate=False, language="ru"))
    assert client.get(f"/api/v1/letters/{plain}").get_json()["translation"] is None
    token = token_of(write(client, prisoner, delivery="self"))
    waiting = client.get(f"/api/v1/letters/{token}").get_json()["translation"]
    assert waiting == {"state": "open", "target_language": "ru", "text": None}
    finish(token)
    done = client.get(f"/api/v1/letters/{token}").get_json()["translation"]
    assert done == {"state": "done", "target_language": "ru", "text": RUSSIAN}
