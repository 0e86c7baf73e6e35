"""Writing a letter: templates, preview, saving with a tracking token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.library.services import sync_templates
from app.models import Letter, PrisonerStatus, Template
from app.russian.censor import estimate_pages
from tests.conftest import flashed, follow, page_text, submit
from tests.factories import make_facility, make_prisoner

TEMPLATE = """---
slug: test-first
kind: letter
occasion: first
language: ru
title: Первое письмо (тест)
guidance: Расскажите о себе.
---
{{ greeting }}

Пишу Вам впервые. {{ prisoner.forms.dative }} — от всего сердца.

С теплом,
{{ sender.signature }}
"""


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def template(app, tmp_path: Path) -> Template:
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "first.md").write_text(TEMPLATE, encoding="utf-8")
    sync_templates(folder)
    db.session.commit()
    return db.session.scalar(select(Template))


def post_letter(client, prisoner, **fields):
    """Send the letter form as a browser would."""
    data = {"template_id": "None", "language": "ru", **fields}
    return submit(client, f"/prisoners/{prisoner.id}/write", data)


def letter_count() -> int:
    return db.session.scalar(select(func.count(Letter.id))) or 0


def test_write_page_offers_templates_and_shows_the_address(client, prisoner, template):
    html = client.get(f"/prisoners/{prisoner.id}/write").get_data(as_text=True)
    assert "Первое письмо (тест)" in html
    assert "Blank letter" in html
    assert "Горинову Алексею Александровичу, 1961 г.р." in html


def test_choosing_a_template_fills_in_greeting_declined_name_and_signature(
    client, prisoner, template
):
    response = post_letter(
        client,
        prisoner,
        template_id=str(template.id),
        signature="Марк",
        body="",
        apply_template="1",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Дорогой Алексей!" in html
    assert "Горинову Алексею Александровичу — от всего сердца." in html
    assert "Марк</textarea>" in html.replace("\r\n", "\n").replace("\n", "")
    assert "Расскажите о себе." in html  # guidance
    assert letter_count() == 0


def test_preview_shows_the_text_and_saves_nothing(client, prisoner, template):
    response = post_letter(
        client,
        prisoner,
        signature="Марк",
        body="Привет!\n\nКак дела? <b>жирный</b>",
        preview="1",
    )
    html = response.get_data(as_text=True)
    assert 'id="letter-preview"' in html
    assert "Как дела? &lt;b&gt;жирный&lt;/b&gt;" in html
    assert letter_count() == 0


def test_saving_creates_a_letter_with_an_unguessable_token(client, prisoner, template):
    response = post_letter(
        client,
        prisoner,
        template_id=str(template.id),
        signature="Лиса из Праги",
        body="Дорогой Алексей!\n\nПишу Вам из Праги.",
        save="1",
    )
    assert response.status_code == 302
    token = re.search(r"/t/([A-Za-z0-9_-]+)\?saved=1$", response.headers["Location"]).group(1)
    assert len(token) >= 22  # ≥ 128 bits in URL-safe base64
    letter = db.session.scalar(select(Letter))
    assert token not in (letter.token_hash or "")  # the database keeps only a keyed hash
    letter.unlock(token)
    assert letter.signature == "Лиса из Праги"
    assert letter.template_id == template.id
    assert letter.facility_id == prisoner.current_facility.id
    assert letter.body.startswith("Дорогой Алексей!")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bookmark it now." in page
    assert f"/t/{token}" in page


def test_tokens_differ_for_every_letter(client, prisoner, template):
    tokens = set()
    for _ in range(3):
        saved = post_letter(client, prisoner, signature="А.", body="Здравствуйте!", save="1")
        tokens.add(saved.headers["Location"].split("/t/", 1)[1].split("?", 1)[0])
    assert len(tokens) == 3
    assert len(set(db.session.scalars(select(Letter.token_hash)))) == 3


@pytest.mark.parametrize(
    ("signature", "body", "message"),
    [
        ("", "Текст письма", "Sign with any name"),
        ("Марк", "   ", "The letter is empty."),
        ("Марк", "Здравствуйте!\n[Ваше имя]", "Replace the placeholder"),
    ],
)
def test_bad_input_is_refused_and_what_was_typed_is_kept(
    client, prisoner, template, signature, body, message
):
    response = post_letter(
        client,
        prisoner,
        signature=signature,
        body=body,
        save="1",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if body.strip():
        assert body.strip().split("\n")[0] in html
    assert letter_count() == 0


def test_post_without_csrf_token_is_refused(client, prisoner):
    response = client.post(
        f"/prisoners/{prisoner.id}/write",
        data={"language": "ru", "signature": "Марк", "body": "Текст", "save": "1"},
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert letter_count() == 0


def test_cannot_write_to_a_released_prisoner(client, app):
    released = make_prisoner(None, status=PrisonerStatus.RELEASED, accepts_letters=False)
    response = client.get(f"/prisoners/{released.id}/write")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/prisoners/{released.id}")
    assert flashed(follow(client, response)) == ["This person cannot receive letters now."]


def test_unknown_prisoner_is_404(client, app):
    response = client.get("/prisoners/999/write")
    assert response.status_code == 404
    assert "There is nothing here." in page_text(response)


def test_foreign_language_letter_gets_a_notice(client, prisoner, template):
    html = post_letter(
        client,
        prisoner,
        language="en",
        signature="Mark",
        body="Hello!",
        preview="1",
    ).get_data(as_text=True)
    assert "may be delayed for translation or withheld" in html


def test_template_from_get_parameter(client, prisoner, template):
    html = client.get(f"/prisoners/{prisoner.id}/write?template={template.id}").get_data(
        as_text=True
    )
    assert "Дорогой Алексей!" in html
    assert "[Ваше имя]" in html


def test_places_left_for_own_words_are_pointed_out(client, prisoner, template):
    html = post_letter(
        client,
        prisoner,
        signature="Марк",
        body="Здравствуйте!\n\n[Расскажите о себе]\n\nМарк",
        preview="1",
    ).get_data(as_text=True)
    assert 'id="unfilled"' in html
    assert "<li>[Расскажите о себе]</li>" in html


def test_preview_highlights_risky_spans_with_reason_and_severity(client, prisoner, template):
    html = post_letter(
        client,
        prisoner,
        signature="Марк",
        body="Привет! Как продвигается уголовное дело?\n\nУ нас весна.",
        preview="1",
    ).get_data(as_text=True)
    assert '<mark class="risk severity-high" title="' in html
    assert ">уголовное дело</mark>" in html
    assert "High risk" in html  # the findings list names the severity
    assert '<q lang="ru">уголовное дело</q>' in html


def test_harmless_letter_has_no_findings_and_saving_is_never_blocked(client, prisoner, template):
    html = post_letter(
        client,
        prisoner,
        signature="Марк",
        body="Дорогой Алексей!\n\nКак дела? Я прочитала «Войну и мир».",
        preview="1",
    ).get_data(as_text=True)
    assert "No censor risks found" in html and "<mark" not in html
    response = post_letter(
        client, prisoner, signature="Марк", body="Как продвигается уголовное дело?", save="1"
    )
    assert response.status_code == 302 and letter_count() == 1


def test_length_and_the_facilitys_page_limit(client, prisoner, template):
    prisoner.current_facility.max_letter_pages = 1
    db.session.commit()
    long_text = "У нас всё спокойно, я читаю книги и гуляю в парке. " * 120
    html = post_letter(client, prisoner, signature="Марк", body=long_text, preview="1").get_data(
        as_text=True
    )
    assert 'id="page-limit"' in html
    pages = estimate_pages(long_text.strip())
    assert pages >= 2
    assert f'<span id="page-count">{pages}</span>' in html
