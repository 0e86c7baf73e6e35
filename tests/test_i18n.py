"""The Russian catalog is complete: every string a person reads in the code is translated."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
RU_CATALOG = ROOT / "app" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Messages extracted from the code and templates right now."""
    output = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(output), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    return read(output)


def test_every_message_in_the_code_has_a_russian_translation(source_messages):
    russian = read(RU_CATALOG)
    missing = []
    for message in source_messages:
        if not message.id:
            continue
        translated = russian.get(message.id)
        strings = translated.string if translated else None
        if isinstance(strings, tuple):
            complete = len(strings) == 3 and all(strings)
        else:
            complete = bool(strings)
        if not complete or translated.fuzzy:
            missing.append(message.id)
    assert missing == [], "untranslated (run pybabel update, then translate):\n" + "\n".join(
        map(str, missing)
    )


def test_russian_placeholders_match_the_english(source_messages):
    russian = read(RU_CATALOG)
    for message in russian:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, message.id


def test_russian_never_hedges_a_word_between_genders():
    # «Осуждён(а)», «сам(а)» read as a form, not as Russian: the wording is neutral instead
    # («Отбывает наказание», «лично»), since the person's gender is often not known.
    hedged = re.compile(r"\w\((?:а|ла|на|ы|ая|ой)\)")
    russian = read(RU_CATALOG)
    found = [
        string
        for message in russian
        if message.id
        for string in (message.string if isinstance(message.string, tuple) else (message.string,))
        if string and hedged.search(string)
    ]
    assert found == []


def test_templates_follow_force_locale_within_a_request(app):
    """Translations are looked up once per request, yet an email rendered in the recipient's
    language (force_locale) is translated into it, and the page goes on in its own."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ _('Answered') }}"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string(template) == "Answered"
        with force_locale("ru"):
            assert render_template_string(template) == "Получен ответ"
        assert render_template_string(template) == "Answered"
