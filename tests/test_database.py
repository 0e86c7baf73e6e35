"""The schema comes from migrations, and the migrations agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db


def test_models_and_migrations_agree(any_db_app):
    with db.engine.connect() as connection:
        batch = db.engine.dialect.name == "sqlite"
        context = MigrationContext.configure(connection, opts={"render_as_batch": batch})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models differ from migrations: {differences}"


def test_sqlite_pragmas_are_set(app):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_migrations_downgrade_and_upgrade_again(any_db_app):
    downgrade(revision="base")
    assert "prisoner" not in inspect(db.engine).get_table_names()
    upgrade()
    assert "prisoner" in inspect(db.engine).get_table_names()


def test_one_open_placement_per_prisoner(app):
    import pytest
    from sqlalchemy.exc import IntegrityError

    from app.models import Placement
    from tests.factories import make_facility, make_prisoner

    facility = make_facility()
    prisoner = make_prisoner(facility)
    from datetime import date

    prisoner.placements.append(Placement(facility=facility, started_on=date(2026, 1, 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
