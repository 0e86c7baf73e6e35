"""The helpers every list is built with: paginate() and the literal LIKE pattern."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from app.directory.services import PrisonerFilters, search_prisoners
from app.domain import LIKE_ESCAPE, Page, contains_pattern, paginate
from app.extensions import db
from app.manage.facilities import list_facilities
from app.models import Facility, FacilityKind
from tests.factories import make_facility, make_prisoner


class Statements:
    """Records the SQL statements run while it is open."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def _record(self, _connection: object, _cursor: object, statement: str, *_rest: object):
        self.seen.append(statement)

    def __enter__(self) -> Statements:
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(db.engine, "before_cursor_execute", self._record)


@pytest.fixture
def five_facilities(app) -> list[Facility]:
    return [make_facility(code=f"ИК-{number}") for number in range(1, 6)]


def by_code():
    return select(Facility).order_by(Facility.code)


# --- paginate -------------------------------------------------------------------------------


def test_paginate_gives_the_page_and_the_total(five_facilities):
    second = paginate(by_code(), 2, 2, scalars=True)
    assert [facility.code for facility in second.rows] == ["ИК-3", "ИК-4"]
    assert (second.page, second.per_page, second.total, second.pages) == (2, 2, 5, 3)
    last = paginate(by_code(), 3, 2, scalars=True)
    assert [facility.code for facility in last.rows] == ["ИК-5"]


@pytest.mark.parametrize("asked", [0, -3])
def test_paginate_reads_a_page_below_one_as_the_first(five_facilities, asked):
    page = paginate(by_code(), asked, 2, scalars=True)
    assert page.page == 1
    assert [facility.code for facility in page.rows] == ["ИК-1", "ИК-2"]


def test_paginate_past_the_end_is_empty_with_the_right_total(five_facilities):
    page = paginate(by_code(), 4, 2, scalars=True)
    assert (page.rows, page.page, page.total, page.pages) == ([], 4, 5, 3)


def test_paginate_on_an_empty_list_has_one_page(app):
    page = paginate(by_code(), 1, 10, scalars=True)
    assert (page.rows, page.total, page.pages) == ([], 0, 1)


def test_paginate_without_scalars_gives_rows_to_unpack(five_facilities):
    page = paginate(select(Facility.code, Facility.kind).order_by(Facility.code.desc()), 1, 2)
    assert [(code, kind) for code, kind in page.rows] == [
        ("ИК-5", FacilityKind.COLONY),
        ("ИК-4", FacilityKind.COLONY),
    ]
    assert page.total == 5


def test_paginate_counts_the_count_statement_when_given_one(five_facilities):
    listed = by_code()
    # Not a cheaper statement with the same rows, as callers pass, but one with fewer rows:
    # the total shows which statement was counted.
    fewer = select(Facility.id).where(Facility.code.in_(["ИК-1", "ИК-2"]))
    with Statements() as statements:
        page = paginate(listed, 1, 2, count=fewer, scalars=True)
    assert page.total == 2
    assert len(page.rows) == 2
    assert len(statements.seen) == 2  # the count, then the page
    count_sql, page_sql = statements.seen
    assert " IN " in count_sql.upper()
    assert " IN " not in page_sql.upper()


def test_paginate_counts_without_sorting(five_facilities):
    with Statements() as statements:
        paginate(by_code(), 1, 2, scalars=True)
    count_sql, page_sql = statements.seen
    assert "count(" in count_sql.lower()
    assert "ORDER BY" not in count_sql.upper()
    assert "ORDER BY" in page_sql.upper()


def test_with_rows_keeps_the_page_and_the_total():
    page = Page(rows=[1, 2], page=3, per_page=2, total=9)
    shown = page.with_rows(["one", "two"])
    assert shown == Page(rows=["one", "two"], page=3, per_page=2, total=9)


# --- LIKE patterns --------------------------------------------------------------------------


def test_contains_pattern_escapes_the_wildcards_and_the_escape():
    assert contains_pattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%"
    assert LIKE_ESCAPE == "\\"


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("%", {"100%"}),
        ("0%", {"100%"}),
        ("_", {"ИК_3"}),
        ("К_3", {"ИК_3"}),
        ("\\", {"ИК\\4"}),
        ("\\4", {"ИК\\4"}),
        ("ИК", {"ИК_3", "ИК-3", "ИК\\4", "ИК44"}),
    ],
)
def test_a_search_matches_percent_underscore_and_backslash_literally(any_db_app, search, found):
    for code in ("100%", "1000", "ИК_3", "ИК-3", "ИК\\4", "ИК44"):
        db.session.add(
            Facility(
                code=code,
                name="ФКУ",
                kind=FacilityKind.COLONY,
                region="Область",
                postcode="601120",
                locality="Город",
                street_address="ул. Лесная, 1",
            )
        )
    db.session.commit()
    matched = db.session.scalars(
        select(Facility.code).where(
            Facility.code.like(contains_pattern(search), escape=LIKE_ESCAPE)
        )
    )
    assert set(matched) == found


def test_the_organizers_facility_search_takes_wildcards_literally(app, organizer):
    make_facility(code="ИК-1", name="ФКУ ИК-1 (100% проверено)")
    make_facility(code="ИК-2", name="ФКУ ИК-2")
    make_facility(code="ИК-3", locality="Покров\\Лесной")
    assert [row.facility.code for row in list_facilities(organizer, "%").rows] == ["ИК-1"]
    assert [row.facility.code for row in list_facilities(organizer, "\\").rows] == ["ИК-3"]
    assert list_facilities(organizer, "_").total == 0


def test_the_directory_search_takes_wildcards_literally(app):
    colony = make_facility()
    make_prisoner(colony, last_name_latin="Ivan_ov")
    make_prisoner(colony, last_name="Петров", first_name="Пётр", patronymic=None)
    make_prisoner(colony, last_name="Сидоров", first_name="Сидор", first_name_latin="Si%dor")

    def found(query: str) -> list[str]:
        page = search_prisoners(PrisonerFilters(query=query, sort="name"), 1, 10)
        return [row.prisoner.last_name for row in page.rows]

    assert found("_") == ["Горинов"]
    assert found("%") == ["Сидоров"]
    assert found("\\") == []
    assert len(found("о")) == 3
