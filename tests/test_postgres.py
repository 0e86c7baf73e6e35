"""The PostgreSQL test setup: a throwaway server on loopback, migrated by the real migrations,
and `any_db_app` running the same test on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Facility, FacilityKind, Placement, Prisoner, PrisonerStatus
from config import BASE_DIR
from tests.factories import make_facility, make_prisoner


def test_migrations_ran_to_head_with_the_same_tables_as_sqlite(pg_app, migrated_database):
    head = ScriptDirectory(str(BASE_DIR / "migrations")).get_current_head()
    version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == head

    sqlite = create_engine(f"sqlite:///{migrated_database}")
    try:
        sqlite_tables = set(inspect(sqlite).get_table_names())
    finally:
        sqlite.dispose()
    assert set(inspect(db.engine).get_table_names()) == sqlite_tables
    assert "prisoner" in sqlite_tables


def test_any_db_app_gives_each_database_in_turn(any_db_app, request):
    assert db.engine.dialect.name == request.node.callspec.params["any_db_app"]


def test_round_trip_through_the_models(any_db_app):
    facility = make_facility()
    prisoner = make_prisoner(
        facility, since=date(2025, 3, 1), name_overrides={"dative": "Горинову"}
    )
    db.session.expire_all()

    found = db.session.scalars(select(Prisoner).where(Prisoner.last_name == "Горинов")).one()
    assert found.id == prisoner.id
    assert found.full_name == "Горинов Алексей Александрович"
    assert found.status is PrisonerStatus.CONVICTED
    assert found.accepts_letters is True
    assert found.name_overrides == {"dative": "Горинову"}
    assert found.current_facility.kind is FacilityKind.COLONY
    assert found.current_facility.region == "Владимирская область"
    assert [p.started_on for p in found.placements] == [date(2025, 3, 1)]


def test_one_open_placement_per_prisoner_on_both_databases(any_db_app):
    facility = make_facility()
    prisoner = make_prisoner(facility, since=date(2025, 3, 1))

    prisoner.placements.append(Placement(facility=facility, started_on=date(2026, 1, 1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    # Closed placements do not count: the index is partial.
    prisoner.placements[0].ended_on = date(2025, 12, 31)
    prisoner.placements.append(Placement(facility=facility, started_on=date(2026, 1, 1)))
    db.session.commit()
    assert len(db.session.scalars(select(Placement)).all()) == 2


def test_pages_render_from_postgresql(pg_app):
    make_prisoner(make_facility())
    html = pg_app.test_client().get("/prisoners").get_data(as_text=True)
    assert "Горинов Алексей Александрович" in html


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_starts_on_empty_tables_with_ids_from_one(pg_app, run):
    assert db.session.scalars(select(Facility)).all() == []
    assert make_facility().id == 1


def test_server_listens_on_loopback_only(pg_app, postgres_server):
    assert db.session.execute(text("SHOW listen_addresses")).scalar_one() == "127.0.0.1"
    assert db.session.execute(text("SELECT host(inet_server_addr())")).scalar_one() == "127.0.0.1"
    sockets = db.session.execute(text("SHOW unix_socket_directories")).scalar_one()
    assert sockets.startswith(str(postgres_server.folder))
