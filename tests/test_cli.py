"""`flask letters sync`, `flask demo load`, and the generated secret key."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Letter, Template
from tests.factories import make_facility, make_letter, make_prisoner

ROOT = Path(__file__).resolve().parent.parent


def test_letters_sync_is_idempotent_and_retires_removed_files(runner, tmp_path):
    library = tmp_path / "letters"
    (library / "ru").mkdir(parents=True)
    for slug in ("one", "two"):
        (library / "ru" / f"{slug}.md").write_text(
            f"---\nslug: {slug}\nkind: letter\noccasion: first\nlanguage: ru\ntitle: {slug}\n"
            "---\n{{ greeting }}\n\n{{ sender.signature }}\n",
            encoding="utf-8",
        )
    first = runner.invoke(args=["letters", "sync", "--directory", str(library)])
    assert "2 created" in first.output, first.output
    again = runner.invoke(args=["letters", "sync", "--directory", str(library)])
    assert "0 created, 0 updated, 2 unchanged, 0 retired" in again.output

    two = db.session.scalar(select(Template).where(Template.slug == "two"))
    letter = make_letter(make_prisoner(make_facility()), template=two)
    (library / "ru" / "two.md").unlink()
    retired = runner.invoke(args=["letters", "sync", "--directory", str(library)])
    assert "1 retired" in retired.output
    db.session.expire_all()
    assert db.session.get(Letter, letter.id).template.retired is True


def test_letters_sync_refuses_a_broken_template_and_changes_nothing(runner, tmp_path):
    library = tmp_path / "letters"
    library.mkdir()
    (library / "bad.md").write_text(
        "---\nslug: bad\nkind: letter\noccasion: first\nlanguage: ru\ntitle: Bad\n---\n{{ oops\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["letters", "sync", "--directory", str(library)])
    assert result.exit_code != 0
    assert "bad.md" in result.output
    assert db.session.scalars(select(Template)).all() == []


def test_the_shipped_library_loads(runner):
    result = runner.invoke(args=["letters", "sync", "--directory", str(ROOT / "letters")])
    assert result.exit_code == 0, result.output
    shipped = [path for path in (ROOT / "letters").rglob("*.md") if path.name != "README.md"]
    assert len(shipped) >= 14
    assert f"{len(shipped)} created" in result.output


def test_demo_load_twice(runner):
    first = runner.invoke(args=["demo", "load"])
    assert "prisoners" in first.output and first.exit_code == 0
    second = runner.invoke(args=["demo", "load"])
    assert "already loaded" in second.output


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    settings = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    first = create_app("default", settings)
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 64
    assert create_app("default", settings).config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_officials_sync_creates_the_federal_bodies_once(runner):
    from app.models import Jurisdiction, Official

    first = runner.invoke(args=["officials", "sync"])
    assert "3 created or changed" in first.output, first.output
    again = runner.invoke(args=["officials", "sync"])
    assert "0 created or changed" in again.output
    federal = db.session.scalars(
        select(Official).where(Official.jurisdiction == Jurisdiction.FEDERAL)
    ).all()
    assert len(federal) == 3 and all(o.source_url for o in federal)


def test_letters_check_passes_the_shipped_library_and_fails_a_risky_letter(runner, tmp_path):
    assert runner.invoke(args=["letters", "check"]).exit_code == 0
    library = tmp_path / "letters"
    library.mkdir()
    (library / "risky.md").write_text(
        "---\nslug: risky\nkind: letter\noccasion: first\nlanguage: ru\ntitle: Risky\n---\n"
        "{{ greeting }}\n\nКак продвигается уголовное дело? Что сказал адвокат?\n\n"
        "{{ sender.signature }}\n",
        encoding="utf-8",
    )
    (library / "unknown.md").write_text(
        "---\nslug: unknown\nkind: letter\noccasion: first\nlanguage: ru\ntitle: Unknown\n---\n"
        "{{ greeting }} {{ official.position }}\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["letters", "check", "--directory", str(library)])
    assert result.exit_code == 1
    assert "censor risk (case_and_court)" in result.output
    assert "unknown variables: official" in result.output


def test_letters_add_refuses_a_template_that_fails_the_check(runner, app, tmp_path):
    app.config["LETTERS_DIR"] = str(tmp_path / "library")
    good = tmp_path / "good.md"
    good.write_text(
        "---\nslug: good\nkind: letter\noccasion: support\nlanguage: ru\ntitle: Good\n---\n"
        "{{ greeting }}\n\nУ нас весна, цветут яблони.\n\n{{ sender.signature }}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.md"
    bad.write_text(good.read_text().replace("slug: good", "slug: bad") + "{{ nope }}\n")
    assert "added" in runner.invoke(args=["letters", "add", str(good)]).output
    assert (tmp_path / "library" / "ru" / "good.md").exists()
    refused = runner.invoke(args=["letters", "add", str(bad)])
    assert refused.exit_code != 0 and not (tmp_path / "library" / "ru" / "bad.md").exists()
    assert db.session.scalar(select(Template).where(Template.slug == "good")) is not None
