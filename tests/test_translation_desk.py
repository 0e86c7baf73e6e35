"""The translator's desk: the queue, claims (and the race for one), expiry, release,
submission with and without a second translator's review, access, and the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from app.auth.api_tokens import create_api_token
from app.domain import DomainError
from app.extensions import db
from app.models import (
    Letter,
    MailroomItem,
    MailroomState,
    Role,
    Translation,
    TranslationKind,
    TranslationState,
    User,
)
from app.models.base import utcnow
from app.privacy.crypto import decrypt_field
from app.tokens import new_tracking_token
from app.translation import desk
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import make_facility, make_prisoner, make_user
from tests.mailbox import sent_mail
from tests.servers import served_in_thread
from tests.test_mailroom_runs import race
from tests.test_mailroom_writer import open_mailroom

pytestmark = pytest.mark.both_databases

ENGLISH = "Dear Alexei,\n\nI am writing to you from Edinburgh. Spring came early this year.\n"
RUSSIAN = "Дорогой Алексей!\n\nПишу Вам из Эдинбурга. Весна в этом году пришла рано.\n"
NOW = datetime(2026, 12, 7, 12, 0)


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def translator(app):
    return make_user(
        email="anna@example.org", role=Role.TRANSLATOR, translates_from="en", translates_into="ru"
    )


@pytest.fixture
def second(app):
    return make_user(
        email="boris@example.org",
        role=Role.TRANSLATOR,
        translates_from="en,de",
        translates_into="ru",
    )


def to_translate(
    prisoner, source: str = "en", age_hours: int = 0, mailroom: bool = False
) -> Translation:
    """A letter shared with the organisers and its open translation (committed)."""
    letter = Letter.written(
        str(new_tracking_token()),
        body=ENGLISH,
        signature="Ann",
        prisoner=prisoner,
        facility=prisoner.current_facility,
        language=source,
    )
    db.session.add(letter)
    db.session.flush()
    letter.share_with_organisers()
    if mailroom:
        from app.mailroom.reference import new_reference

        db.session.add(
            MailroomItem(letter=letter, reference=new_reference(), state=MailroomState.TRANSLATION)
        )
    translation = Translation(
        letter=letter,
        kind=TranslationKind.LETTER,
        source_language=source,
        target_language="ru",
        created_at=NOW - timedelta(hours=age_hours),
    )
    db.session.add(translation)
    db.session.commit()
    return translation


def fresh(app: Flask, user: User) -> User:
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def state_of(app: Flask, translation_id: int) -> Translation:
    with app.app_context():
        found = db.session.get(Translation, translation_id)
        assert found is not None
        db.session.expunge(found)
        return found


def test_the_queue_holds_my_languages_most_urgent_first(app, prisoner, translator) -> None:
    open_mailroom()
    old = to_translate(prisoner, age_hours=30)
    newer = to_translate(prisoner, age_hours=2)
    for_the_run = to_translate(prisoner, age_hours=1, mailroom=True)
    to_translate(prisoner, source="de", age_hours=50)  # not in Anna's languages
    with app.app_context():
        work = desk.open_work(fresh(app, translator), NOW)
        assert [w.translation.id for w in work] == [for_the_run.id, old.id, newer.id]
        assert work[0].run_on is not None and work[1].run_on is None


def test_a_translator_without_languages_sees_nothing(app, prisoner) -> None:
    nobody = make_user(email="new@example.org", role=Role.TRANSLATOR)
    to_translate(prisoner)
    with app.app_context():
        assert desk.open_work(fresh(app, nobody), NOW) == []


def test_a_claim_locks_until_it_expires_then_the_item_is_open_again(
    app, prisoner, translator, second
) -> None:
    open_mailroom(translation_claim_minutes=60)
    item = to_translate(prisoner)
    with app.app_context():
        desk.claim(fresh(app, translator), item.id, NOW)
        db.session.commit()
    with app.app_context():
        boris = fresh(app, second)
        assert desk.open_work(boris, NOW + timedelta(minutes=30)) == []
        with pytest.raises(DomainError):
            desk.claim(boris, item.id, NOW + timedelta(minutes=30))
        later = NOW + timedelta(minutes=61)
        [expired] = desk.open_work(boris, later)
        assert expired.claim_expired
        desk.claim(boris, item.id, later)
        db.session.commit()
    with app.app_context(), pytest.raises(DomainError):  # Anna's claim ran out
        desk.save_draft(fresh(app, translator), item.id, RUSSIAN, NOW + timedelta(minutes=62))
    assert state_of(app, item.id).claimed_by_id == second.id


def test_release_gives_it_back_with_its_draft(app, prisoner, translator, second) -> None:
    open_mailroom()
    item = to_translate(prisoner)
    with app.app_context():
        anna = fresh(app, translator)
        desk.claim(anna, item.id, NOW)
        desk.save_draft(anna, item.id, RUSSIAN, NOW)
        with pytest.raises(DomainError):  # only the one who holds it releases it
            desk.release(fresh(app, second), item.id, NOW)
        desk.release(anna, item.id, NOW)
        db.session.commit()
    with app.app_context():
        boris = fresh(app, second)
        claimed = desk.claim(boris, item.id, NOW)
        assert desk.draft_text(claimed) == RUSSIAN
        db.session.commit()
    assert state_of(app, item.id).state is TranslationState.CLAIMED


def test_submit_without_review_is_done_and_moves_the_letter_on(app, prisoner, translator) -> None:
    open_mailroom()
    item = to_translate(prisoner, mailroom=True)
    with app.app_context():
        anna = fresh(app, translator)
        desk.claim(anna, item.id, NOW)
        with pytest.raises(DomainError):
            desk.submit(anna, item.id, "  ", NOW)
        desk.submit(anna, item.id, RUSSIAN, NOW)
        db.session.commit()
    with app.app_context():
        done = db.session.get(Translation, item.id)
        assert done is not None
        assert done.state is TranslationState.DONE and done.translator_id == translator.id
        assert done.done_at == NOW and done.claimed_by_id is None
        assert RUSSIAN.encode() not in done.text_encrypted
        letter = done.letter
        assert letter.unlock_for_organisers()
        text = decrypt_field(
            letter.content_key(), done.text_encrypted, context=f"translation:{done.id}:text"
        )
        assert text == RUSSIAN
        mail_item = db.session.scalar(
            select(MailroomItem).where(MailroomItem.letter_id == letter.id)
        )
        assert mail_item is not None and mail_item.state is MailroomState.REVIEW


def test_with_review_another_translator_approves_or_returns(
    app, prisoner, translator, second
) -> None:
    open_mailroom(translation_review=True)
    item = to_translate(prisoner)
    with app.app_context():
        anna = fresh(app, translator)
        desk.claim(anna, item.id, NOW)
        desk.submit(anna, item.id, RUSSIAN, NOW)
        db.session.commit()
    assert state_of(app, item.id).state is TranslationState.SUBMITTED
    with app.app_context():
        anna = fresh(app, translator)
        with pytest.raises(DomainError):  # not her own
            desk.review(anna, item.id, approve=True, now=NOW)
        boris = fresh(app, second)
        assert [t.id for t in desk.waiting_for_review(boris)] == [item.id]
        assert desk.waiting_for_review(anna) == []
        desk.review(boris, item.id, approve=False, now=NOW)
        db.session.commit()
    assert state_of(app, item.id).state is TranslationState.OPEN
    with app.app_context():
        anna = fresh(app, translator)
        desk.claim(anna, item.id, NOW)
        desk.submit(anna, item.id, RUSSIAN + "\nОбнимаю.", NOW)
        desk.review(fresh(app, second), item.id, approve=True, now=NOW)
        db.session.commit()
    done = state_of(app, item.id)
    assert done.state is TranslationState.DONE
    assert (done.translator_id, done.reviewer_id) == (translator.id, second.id)


def test_a_letter_the_organisation_no_longer_reads_is_refused(app, prisoner, translator) -> None:
    open_mailroom()
    item = to_translate(prisoner)
    with app.app_context():
        letter = db.session.get(Letter, item.letter_id)
        letter.stop_sharing_with_organisers()
        db.session.commit()
    with app.app_context():
        anna = fresh(app, translator)
        desk.claim(anna, item.id, NOW)
        with pytest.raises(DomainError, match="no longer shares"):
            desk.save_draft(anna, item.id, RUSSIAN, NOW)


def test_only_translators_organizers_and_admins_use_the_desk(app, prisoner, organizer) -> None:
    to_translate(prisoner)
    mailroom = make_user(email="post@example.org", role=Role.MAILROOM)
    with app.app_context():
        with pytest.raises(Forbidden):
            desk.open_work(fresh(app, mailroom), NOW)
        with pytest.raises(Forbidden):
            desk.open_work(None, NOW)
        # An organizer without languages oversees the whole queue.
        assert len(desk.open_work(fresh(app, organizer), NOW)) == 1


# The pages.

RISKY_RUSSIAN = "Дорогой Алексей!\n\nКак прошёл суд? Держитесь.\n"


def test_a_translator_claims_translates_and_submits_on_the_pages(client, app, translator) -> None:
    open_mailroom()
    prisoner = make_prisoner(make_facility(), notes_for_writers="Любит письма о природе.")
    item = to_translate(prisoner, mailroom=True)
    log_in(client, translator)
    queue = client.get("/translate")
    assert queue.status_code == 200
    text = page_text(queue)
    assert f"Translation {item.id}" in text and "for the print run of" in text
    claimed = submit(client, queue, {}, action=f"/translate/{item.id}/claim")
    assert claimed.headers["Location"] == f"/translate/{item.id}"
    editor = client.get(f"/translate/{item.id}")
    text = page_text(editor)
    assert "Spring came early this year." in text and "Любит письма о природе." in text
    assert "Yours" in page_text(client.get("/translate"))
    saved = submit(
        client, editor, {"text": RISKY_RUSSIAN, "action": "save"}, action=f"/translate/{item.id}"
    )
    shown = follow(client, saved)
    assert "Translation saved." in flashed(shown)
    assert "the court" in page_text(shown).split("Censor-risk check", 1)[1]
    done = follow(
        client,
        submit(
            client, shown, {"text": RUSSIAN, "action": "submit"}, action=f"/translate/{item.id}"
        ),
    )
    assert "Translation done. Thank you!" in flashed(done)
    assert state_of(app, item.id).state is TranslationState.DONE


def test_the_editor_wants_a_claim_and_the_review_another_translator(
    client, app, prisoner, translator, second
) -> None:
    open_mailroom(translation_review=True)
    item = to_translate(prisoner)
    log_in(client, translator)
    assert client.get(f"/translate/{item.id}").headers["Location"] == "/translate"
    submit(client, "/translate", {}, action=f"/translate/{item.id}/claim")
    submit(client, f"/translate/{item.id}", {"text": RUSSIAN, "action": "submit"})
    assert state_of(app, item.id).state is TranslationState.SUBMITTED
    log_in(client, second)
    assert "Waiting for your review" in page_text(client.get("/translate"))
    approved = submit(
        client,
        f"/translate/{item.id}",
        {"text": RUSSIAN, "decision": "approve"},
        action=f"/translate/{item.id}/review",
    )
    assert "Translation approved." in flashed(follow(client, approved))
    assert state_of(app, item.id).reviewer_id == second.id


def test_the_mailroom_page_shows_the_median_translation_time_per_pair(
    client, app, prisoner, translator
) -> None:
    open_mailroom()
    for hours in (5, 10, 100):
        item = to_translate(prisoner, age_hours=hours)
        with app.app_context():
            anna = fresh(app, translator)
            desk.claim(anna, item.id, NOW)
            desk.submit(anna, item.id, RUSSIAN, NOW)
            db.session.commit()
    log_in(client, make_user(email="post@example.org", role=Role.MAILROOM))
    text = page_text(client.get("/mailroom"))
    assert "Translation times" in text
    assert "English → Russian 10 hours 3" in text


# The daily digest.


def test_the_digest_counts_open_work_per_pair_and_names_nothing(
    client, app, prisoner, translator, second
) -> None:
    from app.translation.digest import send_translator_digest

    open_mailroom()
    to_translate(prisoner)
    to_translate(prisoner)
    to_translate(prisoner, source="de")
    make_user(email="none@example.org", role=Role.TRANSLATOR, translates_from="fr",
              translates_into="ru")  # fmt: skip
    with app.app_context():
        assert send_translator_digest(NOW) == 2  # not the one with no work in French
        db.session.commit()
    mails = {m.recipient: m for m in sent_mail("translation_digest")}
    assert set(mails) == {"anna@example.org", "boris@example.org"}
    anna, boris = mails["anna@example.org"], mails["boris@example.org"]
    assert "en → ru: 2" in anna.body_text and "de → ru" not in anna.body_text
    assert "de → ru: 1" in boris.body_text and "en → ru: 2" in boris.body_text
    for mail in (anna, boris):
        assert "Ann" not in mail.body_text and "Edinburgh" not in mail.body_text
        assert prisoner.last_name not in mail.body_text + mail.subject
    opt_out = re.search(r"(/translators/digest-off/\S+)", anna.body_text).group(1)
    page = client.get(opt_out)
    assert page.status_code == 200
    done = submit(client, page, {}, action=opt_out)
    assert "You will no longer receive the daily summary." in page_text(done)
    assert client.get("/translators/digest-off/forged").status_code == 404
    with app.app_context():
        assert fresh(app, translator).wants_digest is False
        assert send_translator_digest(NOW) == 1  # Boris only


# Settings.


def test_a_translator_sets_languages_and_digest_on_the_account_page(client, app, translator):
    log_in(client, translator)
    saved = submit(
        client, "/account", {"translates_from": "EN, de", "translates_into": "ru"},
        action="/translate/settings",
    )  # fmt: skip
    assert "Your translation settings are saved." in flashed(follow(client, saved))
    with app.app_context():
        anna = fresh(app, translator)
        assert (anna.source_languages, anna.wants_digest) == (["en", "de"], False)
    refused = submit(
        client, "/account", {"translates_from": "english!", "translates_into": "ru"},
        action="/translate/settings",
    )  # fmt: skip
    assert "Give language codes separated by commas, e.g. en, de." in flashed(
        follow(client, refused)
    )


def test_an_admin_sets_a_translators_languages(client, app, admin, translator):
    log_in(client, admin)
    saved = submit(
        client, "/admin/users", {"translates_from": "uk", "translates_into": "ru"},
        action=f"/admin/users/{translator.id}/languages",
    )  # fmt: skip
    assert "Languages of anna@example.org saved." in flashed(follow(client, saved))
    with app.app_context():
        assert fresh(app, translator).source_languages == ["uk"]
    not_a_translator = submit(
        client, "/admin/users", {"translates_from": "uk", "translates_into": "ru"},
        action=f"/admin/users/{admin.id}/languages",
    )  # fmt: skip
    assert "This account is not a translator's." in flashed(follow(client, not_a_translator))


# The API.


def bearer(user: User) -> dict[str, str]:
    _token, raw = create_api_token(db.session.get(User, user.id), "desk")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_the_api_lists_claims_saves_and_submits(client, app, prisoner, translator) -> None:
    open_mailroom()
    item = to_translate(prisoner)
    to_translate(prisoner, source="de")
    headers = bearer(translator)
    listed = client.get("/api/v1/translations?from=en&to=ru", headers=headers)
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json["items"]] == [item.id]
    assert "text" not in listed.json["items"][0]
    assert client.get("/api/v1/translations?from=de", headers=headers).json["items"] == []
    claimed = client.post(f"/api/v1/translations/{item.id}/claim", headers=headers)
    assert claimed.status_code == 200 and claimed.json["claimed_by_you"] is True
    mine = client.get("/api/v1/translations?state=claimed", headers=headers).json["items"]
    assert [t["id"] for t in mine] == [item.id]
    saved = client.put(f"/api/v1/translations/{item.id}", json={"text": RUSSIAN}, headers=headers)
    assert saved.status_code == 200
    submitted = client.post(f"/api/v1/translations/{item.id}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.json["state"] == "done"
    again = client.post(f"/api/v1/translations/{item.id}/release", headers=headers)
    assert again.status_code == 422
    done = client.get("/api/v1/translations?state=done", headers=headers).json["items"]
    assert [t["id"] for t in done] == [item.id]


def test_the_api_releases_a_claim(client, app, prisoner, translator) -> None:
    open_mailroom()
    item = to_translate(prisoner)
    headers = bearer(translator)
    client.post(f"/api/v1/translations/{item.id}/claim", headers=headers)
    released = client.post(f"/api/v1/translations/{item.id}/release", headers=headers)
    assert released.status_code == 200 and released.json["state"] == "open"


def test_the_api_is_for_translators(client, app, prisoner) -> None:
    item = to_translate(prisoner)
    mailroom = bearer(make_user(email="post@example.org", role=Role.MAILROOM))
    assert client.get("/api/v1/translations").status_code == 401
    assert client.get("/api/v1/translations", headers=mailroom).status_code == 403
    claim = client.post(f"/api/v1/translations/{item.id}/claim", headers=mailroom)
    assert claim.status_code == 403
    german = bearer(
        make_user(
            email="de@example.org",
            role=Role.TRANSLATOR,
            translates_from="de",
            translates_into="ru",
        )
    )
    assert client.post(f"/api/v1/translations/{item.id}/claim", headers=german).status_code == 404


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    with served_in_thread(app) as url:
        yield url


def test_two_translators_claiming_at_once_exactly_one_wins(
    app, served, prisoner, translator, second
) -> None:
    open_mailroom()
    one, two = bearer(translator), bearer(second)
    for _trial in range(3):
        item = to_translate(prisoner)
        codes = race(f"{served}/api/v1/translations/{item.id}/claim", [(one, {}), (two, {})])
        assert sorted(codes) == [200, 422]
        won = state_of(app, item.id)
        assert won.state is TranslationState.CLAIMED
        assert won.claimed_by_id == (translator.id if codes[0] == 200 else second.id)
        with app.app_context():
            db.session.get(Translation, item.id).state = TranslationState.DONE
            db.session.commit()
    assert utcnow() > NOW
