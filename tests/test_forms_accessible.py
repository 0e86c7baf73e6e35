"""Forms a screen reader can follow, and the server's part in drafts kept in the browser: a
field with an error says so and points at its message on every form; every page starts with a
skip link; a saved letter's draft is forgotten by the next page."""

from __future__ import annotations

import re

import pytest
from flask_wtf import FlaskForm
from wtforms import StringField

from app.forms import Form
from tests.conftest import follow, submit
from tests.factories import make_facility, make_official, make_prisoner

pytestmark = pytest.mark.both_databases


def subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *subclasses(sub)]
    return found


def test_every_form_ties_its_errors_to_its_fields(app):
    forms = [form for form in subclasses(FlaskForm) if form.__module__.startswith("app.")]
    assert len(forms) > 30
    assert [form.__qualname__ for form in forms if not issubclass(form, Form)] == []


def test_a_field_with_an_error_points_at_its_message_after_its_hint(app):
    class NameForm(Form):
        name = StringField("Name")

    with app.test_request_context():
        form = NameForm(meta={"csrf": False})
        plain = str(form.name(**{"aria-describedby": "name-hint"}))
        assert "aria-invalid" not in plain and 'aria-describedby="name-hint"' in plain
        form.name.errors = ["Too short.", "Not a name."]
        html = str(form.name(aria_describedby="name-hint"))
        assert 'aria-invalid="true"' in html
        assert 'aria-describedby="name-hint name-error"' in html
        # A template that names the message already (templates/manage/_macros.html): once.
        named = str(form.name(**{"aria-describedby": "name-error"}))
        assert 'aria-describedby="name-error"' in named


def test_the_composer_ties_an_error_to_the_field(client):
    prisoner = make_prisoner(make_facility())
    data = {"template_id": "None", "language": "ru", "signature": "", "body": "Привет!"}
    response = submit(client, f"/prisoners/{prisoner.id}/write", {**data, "save": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(r"<input[^>]*\bid=\"signature\"[^>]*>", html)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="signature-hint signature-error"' in field.group(0)
    assert re.search(r'<p class="field-error" id="signature-error">Sign with any name', html)
    # The answer to a post: its fields are newer than a draft the browser keeps.
    assert "data-draft-answer" in html


def test_every_page_starts_with_a_skip_link(client):
    for url in ("/", "/prisoners", "/login"):
        html = client.get(url).get_data(as_text=True)
        body = html[html.index("<body") :]
        first_link = re.search(r"<a [^>]*>[^<]*</a>", body)
        assert first_link is not None
        assert 'class="skip-link" href="#content"' in first_link.group(0)
        assert '<main id="content" tabindex="-1">' in html


def test_the_composers_name_their_drafts_and_forget_them_once_saved(client):
    prisoner = make_prisoner(make_facility())
    official = make_official(prisoner.current_facility)
    page = client.get(f"/prisoners/{prisoner.id}/write").get_data(as_text=True)
    assert f'data-draft-key="konvert-draft:letter:{prisoner.id}"' in page
    assert "data-autosubmit" not in page and "data-draft-answer" not in page
    appeal = client.get(f"/prisoners/{prisoner.id}/appeal/{official.id}").get_data(as_text=True)
    assert f'data-draft-key="konvert-draft:appeal:{prisoner.id}:{official.id}"' in appeal

    data = {"template_id": "None", "language": "ru", "signature": "Аня", "body": "Привет!"}
    saved = submit(client, f"/prisoners/{prisoner.id}/write", {**data, "save": "1"})
    tracking = follow(client, saved).get_data(as_text=True)
    assert f'data-forget-drafts="konvert-draft:letter:{prisoner.id}"' in tracking
    assert "js/drafts.js" in tracking
    # Said once: the next page has nothing to forget.
    assert "data-forget-drafts" not in client.get("/").get_data(as_text=True)
