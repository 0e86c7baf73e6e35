"""Finding 11 of the audit (issue 13): an organizer's template could hang or crash a worker.

Templates are written by organizers; these are the attacks one could write. Each must end in a
clear template error — from `flask letters check` before the template is offered, and on the
compose page if such a template is in the database anyway — never a hang, a huge allocation or
a 500.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.library.bounds import RenderLimits
from app.library.sandbox import TemplateRenderError, render_body
from app.models import Template, TemplateKind
from tests.conftest import page_text, submit
from tests.factories import make_facility, make_prisoner

CONTEXT = {
    "greeting": "Дорогой Алексей!",
    "prisoner": {"full_name": "Горинов Алексей Александрович", "gender": "m"},
    "sender": {"signature": "Аня"},
}
NESTED_RANGES = "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"
HUGE_NESTED_RANGES = (
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
)


def refusal(body: str, limits: RenderLimits | None = None) -> str:
    """The template error a body ends in (fails the test if it renders)."""
    started = time.monotonic()
    with pytest.raises(TemplateRenderError) as error:
        render_body(body, CONTEXT, limits)
    assert time.monotonic() - started < 5, "bounded, but not promptly"
    return str(error.value)


def write_template(folder: Path, slug: str, body: str) -> Path:
    path = folder / f"{slug}.md"
    path.write_text(
        f"---\nslug: {slug}\nkind: letter\noccasion: support\nlanguage: ru\ntitle: {slug}\n---\n"
        "{{ greeting }}\n\nУ нас весна, цветут яблони.\n" + body + "\n{{ sender.signature }}\n",
        encoding="utf-8",
    )
    return path


def test_finding_11_nested_range_loops_are_refused_by_letters_check_and_bounded_when_rendered(
    runner, tmp_path
):
    # Loops within range()'s own cap, but a million iterations together.
    assert "repeats too often (over 10000 loop iterations)" in refusal(NESTED_RANGES)
    # The audit's template: a range of 100,000 is refused before the first iteration.
    assert "range() may give at most 1000 numbers" in refusal(HUGE_NESTED_RANGES)
    # Strings iterate too: 60,000 × 60,000 characters.
    assert "repeats too often" in refusal(
        '{% set s = "x" * 60000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}'
    )
    # A recursive loop iterates what it is given each time.
    assert "repeats too often" in refusal(
        "{% for x in range(1000) recursive %}{% if loop.depth < 3 %}{{ loop(range(1000)) }}"
        "{% endif %}{% endfor %}"
    )

    library = tmp_path / "letters"
    library.mkdir()
    write_template(library, "nested", NESTED_RANGES)
    write_template(library, "huge", HUGE_NESTED_RANGES)
    # Bounds hold for every sample person: this one only loops for women.
    write_template(
        library, "women", '{% if prisoner.gender == "f" %}' + NESTED_RANGES + "{% endif %}"
    )
    result = runner.invoke(args=["letters", "check", "--directory", str(library)])
    assert result.exit_code == 1
    assert "templates: 0 passed, 3 failed" in result.output
    assert "does not render for a sample (man): the template repeats too often" in result.output
    assert "range() may give at most 1000 numbers" in result.output
    assert "does not render for a sample (woman): the template repeats too often" in result.output
    assert "(man)" not in result.output.split("women.md")[1]


def make_template(body: str) -> Template:
    """A template in the database that never went through the check (or an older one)."""
    template = Template(
        slug="broken", language="ru", kind=TemplateKind.LETTER, occasion="support",
        title="Сломанный", body="{{ greeting }}\n\n" + body + "\n",
    )  # fmt: skip
    db.session.add(template)
    db.session.commit()
    return template


@pytest.mark.parametrize("language", ["en", "ru"])
def test_finding_11_division_by_zero_is_a_clear_error_on_the_compose_page(app, client, language):
    prisoner = make_prisoner(make_facility())
    template = make_template("{{ 1 // 0 }}")
    expected = {
        "en": "This template could not be filled in: division by zero",
        "ru": "Не удалось заполнить шаблон: деление на ноль",
    }[language]
    headers = {"Accept-Language": language}

    chosen = client.get(f"/prisoners/{prisoner.id}/write?template={template.id}", headers=headers)
    assert chosen.status_code == 422
    assert expected in page_text(chosen)

    form = {"template_id": str(template.id), "language": "ru", "signature": "Аня", "body": ""}
    applied = submit(
        client,
        f"/prisoners/{prisoner.id}/write",
        {**form, "apply_template": "1"},
        headers=headers,
    )
    assert applied.status_code == 422
    assert expected in page_text(applied)
    assert db.session.scalar(select(Template.id)) == template.id  # nothing else changed


@pytest.mark.parametrize(
    "body",
    [
        '{{ "x" * 10**7 }}',
        '{{ "%0*d" % (10**7, 1) }}',
        '{{ "%010000000d" | format(1) }}',
        '{{ "{:>10000000}".format(1) }}',
        '{{ ("x" * 50000).replace("x", "xx") }}',
        '{{ ("x" * 50000) | replace("x", "xx") }}',
        '{{ ("x" * 5000) | list | join("y" * 5000) }}',
        '{{ range(1000) | map("center", 50000) | join }}',
        '{% set ns = namespace(s="x") %}{% for i in range(24) %}{% set ns.s = ns.s ~ ns.s %}'
        "{% endfor %}{{ ns.s | length }}",
        "{% macro grow(s, n) %}{% if n %}{{ grow(s ~ s, n - 1) }}{% endif %}{% endmacro %}"
        '{{ grow("ab", 24) }}',
        '{% set s = "x" * 50000 %}{{ [s, s, s, s, s] }}',
        '{% for i in range(1000) %}{{ "x" * 1000 }}{% endfor %}',
        '{% set x %}{% for i in range(1000) %}{{ "y" * 5000 }}{% endfor %}{% endset %}',
    ],
)
def test_finding_11_huge_strings_are_refused_before_they_are_built(body):
    assert "the text grows too long" in refusal(body)


@pytest.mark.parametrize(
    "body", ['{{ "x" | center(10**7) }}', '{{ "x".ljust(10**7) }}', '{{ "x".zfill(10**7) }}']
)
def test_finding_11_huge_widths_are_refused(body):
    assert refusal(body) == "a number given to a filter or method is too large (over 60000)"


@pytest.mark.parametrize(
    "body",
    [
        "{{ 7 ** 1000000 }}",
        "{{ (10 ** 1000) ** 1000 }}",
        "{{ 10 ** 2000 * 10 ** 2000 }}",
        "{% set ns = namespace(n=3) %}{% for i in range(16) %}{% set ns.n = ns.n * ns.n %}"
        "{% endfor %}{{ ns.n }}",
        "{{ 2.0 ** 100000 }}",
    ],
)
def test_finding_11_huge_powers_are_refused(body):
    assert refusal(body) == "a number is too large"


@pytest.mark.parametrize(
    "body",
    [
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}",
        "{% block a %}{{ self.a() }}{% endblock %}",
        "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    ],
)
def test_finding_11_recursive_macros_are_refused(body):
    assert refusal(body) == "the template calls itself too deeply (over 32 levels)"


def test_finding_11_rendering_is_bounded_in_time(runner, app, tmp_path):
    # Within every count (under 10,000 iterations, few steps), but slow: each step reads
    # 60,000 characters.
    slow = (
        '{% set s = "ab " * 20000 %}{% for i in range(99) %}{% for j in range(100) %}'
        "{{ s | wordcount }}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    message = refusal(slow, RenderLimits(seconds=0.2))
    assert message == "the template takes too long to fill in (over 0.2 s)"
    assert time.monotonic() - started < 1.5

    app.config["TEMPLATE_RENDER_SECONDS"] = 0.1
    library = tmp_path / "letters"
    library.mkdir()
    write_template(library, "slow", slow)
    result = runner.invoke(args=["letters", "check", "--directory", str(library)])
    assert result.exit_code == 1
    assert "takes too long to fill in (over 0.1 s)" in result.output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 1 / 0 }}", "division by zero"),
        ("{{ 1 is divisibleby 0 }}", "division by zero"),
        ('{{ "%c" % 1114112 }}', "a number is too large"),
        ('{{ "abc".index("z") }}', "ValueError: substring not found"),
        ("{{ (" * 400 + "1" + ")" * 400 + " }}", "the template calls itself or nests too deeply"),
        ('{{ "abc".translate({97: "x" * 50000}) }}', "the method translate is not available"),
        ("{{ lipsum(10**6) }}", "'lipsum' is undefined"),
        ("{{ [[1], [2]] | sum(start=[]) }}", "the sum filter adds numbers only"),
    ],
)
def test_finding_11_every_exception_becomes_a_template_error(body, message):
    assert message in refusal(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{{ "%d" % "x" }}', "%d format: a real number is required, not str"),
        ("{% set a, b = 1 %}", "cannot unpack non-iterable int object"),
        ('{% include "other" %}', "no loader for this environment specified"),
        ('{{ "".__class__ }}', "access to attribute '__class__' of 'str' object is unsafe."),
    ],
)
def test_errors_reported_before_the_bounds_keep_their_messages(body, message):
    assert refusal(body) == message


def test_ordinary_templates_render_as_before_within_the_bounds():
    body = (
        "{{ greeting }} {{ prisoner.full_name | upper }} {{ \"%s-%d\" | format('a', 3) }} "
        '{{ "{} {}".format(1, 2) }} {{ ["a", "b"] | join(", ") }} {{ "abc" | replace("b", "B") }} '
        "{% for c in prisoner.full_name.split() %}{{ loop.index }}{{ c[0] }}{% endfor %} "
        "{% set ns = namespace(n=0) %}"
        "{% for i in range(10) %}{% set ns.n = ns.n + i %}{% endfor %}"
        "{{ ns.n }} {{ 2 ** 10 }} {{ (7 / 2) | round }} {{ sender.signature ~ '!' }}"
    )
    assert render_body(body, CONTEXT) == (
        "Дорогой Алексей! ГОРИНОВ АЛЕКСЕЙ АЛЕКСАНДРОВИЧ a-3 1 2 a, b aBc 1Г2А3А 45 1024 4.0 Аня!\n"
    )
