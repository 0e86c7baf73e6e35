"""Organizers keep prisoners, facilities and officials current; every change is audited."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.manage.audit import AUDIT_PER_PAGE, audit_page, record
from app.manage.dashboard import dashboard
from app.manage.facilities import FacilityData, update_facility
from app.manage.prisoners import PlacementData, transfer_prisoner
from app.models import (
    AuditEntry,
    Facility,
    FacilityKind,
    Jurisdiction,
    Official,
    Placement,
    Prisoner,
    PrisonerStatus,
)
from tests.conftest import count_queries, flashed, follow, log_in, page_text, submit
from tests.factories import make_facility, make_letter, make_official, make_prisoner, make_user

TODAY = date.today()


def prisoner_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "last_name": "Горинов",
        "first_name": "Алексей",
        "patronymic": "Александрович",
        "gender": "",
        "birth_year": "1961",
        "status": "convicted",
        "languages": "ru",
        "accepts_letters": "y",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def facility_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "code": "ИК-6",
        "name": "ФКУ ИК-6 УФСИН России по Владимирской области",
        "kind": "colony",
        "region": "Владимирская область",
        "country": "RU",
        "postcode": "601021",
        "locality": "пос. Мелехово",
        "street_address": "ул. Первомайская, д. 1",
    }
    fields.update(changes)
    return fields


def official_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "kind": "regional_directorate",
        "position": "Начальник УФСИН России по Владимирской области",
        "position_dative": "Начальнику УФСИН России по Владимирской области",
        "organisation": "УФСИН России по Владимирской области",
        "street_address": "ул. Большая Московская, д. 1",
        "locality": "г. Владимир",
        "region": "Владимирская область",
        "postcode": "600000",
        "jurisdiction": "region",
        "facility_id": "None",
        "jurisdiction_region": "Владимирская область",
    }
    fields.update(changes)
    return fields


def audit_entries(entity_type: str, entity_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id)
        )
    )


@pytest.fixture
def colony(app):
    return make_facility()


@pytest.fixture
def organizer_client(client, organizer):
    log_in(client, organizer)
    return client


# --- access ---------------------------------------------------------------------------------


# Every organizer page, with the heading it opens with.
PAGES = {
    "/manage": "Organizers",
    "/manage/prisoners": "Prisoners",
    "/manage/prisoners/new": "Add a prisoner",
    "/manage/prisoners/{prisoner}/edit": "Edit Горинов Алексей Александрович",
    "/manage/prisoners/{prisoner}/transfer": "Transfer of Горинов Алексей Александрович",
    "/manage/facilities": "Facilities",
    "/manage/facilities/new": "Add a facility",
    "/manage/facilities/{facility}/edit": "Edit ИК-3",
    "/manage/officials": "Officials",
    "/manage/officials/new": "Add an official",
    "/manage/officials/{official}/edit": "Edit an official",
    "/manage/audit": "Audit trail",
}


@pytest.fixture
def records(colony):
    prisoner = make_prisoner(colony)
    official = make_official(colony)
    return {"prisoner": prisoner.id, "facility": colony.id, "official": official.id}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, records, path):
    url = path.format(**records)
    response = client.get(url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    assert url in unescape(location).replace("%2F", "/")


FORMS = [path for path in PAGES if path.endswith(("/new", "/edit", "/transfer"))]


@pytest.mark.parametrize("path", FORMS)
def test_anonymous_posts_change_nothing(client, records, path):
    # A valid CSRF token from the login page: the refusal must come from the login check.
    response = submit(
        client,
        "/login",
        {"last_name": "Иванов", "destination": "transit"},
        action=path.format(**records),
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert db.session.scalar(select(AuditEntry)) is None
    assert db.session.get(Prisoner, records["prisoner"]).last_name == "Горинов"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who", ["organizer", "admin"])
def test_organizers_and_admins_see_every_page(client, records, request, path, who):
    log_in(client, request.getfixturevalue(who))
    response = client.get(path.format(**records))
    assert response.status_code == 200
    assert f"<h1>{PAGES[path]}</h1>" in response.get_data(as_text=True)


def test_a_deactivated_organizer_is_logged_out(client, records):
    former = make_user(email="former@example.org", active=False)
    log_in(client, former)
    response = client.get("/manage/prisoners")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "<h1>Log in</h1>" in follow(client, response).get_data(as_text=True)


def test_services_refuse_anyone_but_organizers(app, colony):
    from flask_login import AnonymousUserMixin
    from werkzeug.exceptions import Forbidden

    prisoner = make_prisoner(colony)
    with pytest.raises(Forbidden):
        transfer_prisoner(AnonymousUserMixin(), prisoner, PlacementData(None, TODAY))
    with pytest.raises(Forbidden):
        dashboard(None)
    assert prisoner.current_facility is colony


# --- dashboard ------------------------------------------------------------------------------


def test_dashboard_counts_and_lists_who_is_in_transit(organizer_client, colony):
    make_prisoner(colony)
    make_prisoner(colony, last_name="Иванова", first_name="Мария", patronymic="Петровна")
    lost = make_prisoner(last_name="Петров", first_name="Пётр", status=PrisonerStatus.IN_TRANSIT)
    lost.placements.append(Placement(facility=None, started_on=TODAY - timedelta(days=12)))
    db.session.commit()
    make_official(colony)

    response = organizer_client.get("/manage")
    text = page_text(response)
    assert response.status_code == 200
    assert re.search(r"Convicted 2\b", text)
    assert re.search(r"In transit, whereabouts unknown 1\b", text)
    assert re.search(r"Петров Пётр Александрович ?: whereabouts unknown for 12 days", text)
    assert "1 facility" in text and "1 official" in text
    html = response.get_data(as_text=True)
    for link in (
        "/manage/prisoners",
        "/manage/facilities",
        "/manage/officials",
        "/manage/audit",
        "/manage/import",
        "/drives",
    ):
        assert f'href="{link}' in html


# --- prisoners ------------------------------------------------------------------------------


def test_organizer_adds_a_prisoner_with_a_first_placement(organizer_client, organizer, colony):
    since = TODAY - timedelta(days=30)
    response = submit(
        organizer_client,
        "/manage/prisoners/new",
        prisoner_fields(
            sentence="7 лет",
            languages="RU, en",
            placement=str(colony.id),
            placed_since=since.isoformat(),
        ),
    )
    assert response.status_code == 302
    prisoner = db.session.scalar(select(Prisoner))
    assert response.headers["Location"] == f"/manage/prisoners/{prisoner.id}/edit"
    assert flashed(follow(organizer_client, response)) == ["Added Горинов Алексей Александрович."]
    assert prisoner.languages == "ru,en"
    assert prisoner.gender is None  # empty: inferred from the patronymic when needed
    assert prisoner.current_facility == colony
    assert prisoner.current_placement.started_on == since

    entry = audit_entries("prisoner", prisoner.id)[0]
    assert entry.action == "create" and entry.user == organizer
    assert entry.changes["last_name"] == [None, "Горинов"]

    public = page_text(organizer_client.get(f"/prisoners/{prisoner.id}"))
    assert "Горинову Алексею Александровичу, 1961 г.р." in public
    assert "601120" in public


def test_a_new_prisoner_can_start_in_transit(organizer_client, colony):
    response = submit(
        organizer_client,
        "/manage/prisoners/new",
        prisoner_fields(status="in_transit", placement="transit", placed_since=TODAY.isoformat()),
    )
    assert response.status_code == 302
    prisoner = db.session.scalar(select(Prisoner))
    assert prisoner.current_placement.in_transit
    assert prisoner.status is PrisonerStatus.IN_TRANSIT


def test_edit_page_shows_inferred_gender_and_computed_forms(organizer_client, colony):
    prisoner = make_prisoner(
        colony, last_name="Иванова", first_name="Мария", patronymic="Петровна"
    )
    text = page_text(organizer_client.get(f"/manage/prisoners/{prisoner.id}/edit"))
    assert "Inferred from the name as typed: female." in text
    assert "Computed: Ивановой Марии Петровне" in text  # dative
    assert "Computed: Ивановой Марией Петровной" in text  # instrumental


def test_organizer_edits_a_prisoner_and_the_audit_trail_shows_old_and_new(
    organizer_client, organizer, colony
):
    prisoner = make_prisoner(colony, sentence="5 лет")
    response = submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(sentence="7 лет", notes_for_writers="Любит шахматы."),
    )
    assert flashed(follow(organizer_client, response)) == ["Saved."]
    db.session.refresh(prisoner)
    assert prisoner.sentence == "7 лет"

    entry = audit_entries("prisoner", prisoner.id)[-1]
    assert entry.action == "update"
    assert entry.changes["sentence"] == ["5 лет", "7 лет"]
    assert "last_name" not in entry.changes  # unchanged fields are not recorded

    audit = page_text(organizer_client.get("/manage/audit"))
    assert "organizer@example.org" in audit
    assert "Горинов Алексей Александрович" in audit
    assert "Sentence: 5 лет → 7 лет" in audit
    assert "Notes for writers: — → Любит шахматы." in audit

    history = page_text(organizer_client.get(f"/manage/prisoners/{prisoner.id}/edit"))
    assert "Sentence: 5 лет → 7 лет" in history


def test_saving_without_changes_records_nothing(organizer_client, colony):
    prisoner = make_prisoner(colony, languages="ru")
    response = submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(),
    )
    assert flashed(follow(organizer_client, response)) == ["Nothing was changed."]
    assert audit_entries("prisoner", prisoner.id) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": "2001-02-30"}, "birth_date", "Not a real date"),
        (
            {"birth_date": (TODAY + timedelta(days=3)).isoformat(), "birth_year": ""},
            "birth_date",
            "The date of birth is in the future.",
        ),
        ({"birth_year": "1899"}, "birth_year", "between 1900 and"),
        ({"birth_year": str(TODAY.year + 1)}, "birth_year", "between 1900 and"),
        (
            {"birth_year": "1990", "detained_on": "1985-05-01"},
            "detained_on",
            "before the year of birth",
        ),
        (
            {"birth_year": "", "birth_date": "1990-06-01", "detained_on": "1990-05-01"},
            "detained_on",
            "before the date of birth",
        ),
        ({"birth_date": "1962-01-01"}, "birth_year", "does not match"),
        ({"languages": "russian"}, "languages", "two-letter"),
        ({"source_url": "javascript:alert(1)"}, "source_url", "http:// or https://"),
        ({"last_name": "  "}, "last_name", "Give the surname."),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_keeps_what_was_typed(
    organizer_client, colony, changes, field, message
):
    prisoner = make_prisoner(colony, sentence="5 лет")
    response = submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(sentence="пожизненно", **changes),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.findall(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert errors and message in unescape(errors[0])
    assert 'value="пожизненно"' in html  # what was typed is still there
    db.session.refresh(prisoner)
    assert prisoner.sentence == "5 лет"
    assert audit_entries("prisoner", prisoner.id) == []


def test_new_prisoner_with_bad_placement_date_is_refused(organizer_client, colony):
    response = submit(
        organizer_client,
        "/manage/prisoners/new",
        prisoner_fields(
            placement=str(colony.id), placed_since=(TODAY + timedelta(days=1)).isoformat()
        ),
    )
    assert response.status_code == 422
    assert "This date is in the future." in page_text(response)
    assert 'value="Горинов"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Prisoner)) is None


def test_status_cannot_jump_into_transit_without_a_transfer(organizer_client, colony):
    prisoner = make_prisoner(colony)
    response = submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(status="in_transit"),
    )
    assert response.status_code == 422
    assert "Record a transfer" in page_text(response)
    db.session.refresh(prisoner)
    assert prisoner.status is PrisonerStatus.CONVICTED


def test_released_status_is_an_ordinary_edit(organizer_client, colony):
    prisoner = make_prisoner(colony)
    response = submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(status="released", accepts_letters=None),
    )
    assert response.status_code == 302
    db.session.refresh(prisoner)
    assert prisoner.status is PrisonerStatus.RELEASED
    assert prisoner.accepts_letters is False
    assert audit_entries("prisoner", prisoner.id)[-1].changes["accepts_letters"] == [True, False]


def test_name_override_changes_the_envelope_address(organizer_client, colony):
    prisoner = make_prisoner(
        colony,
        last_name="Кара-Мурза",
        first_name="Владимир",
        patronymic="Владимирович",
        birth_year=1981,
    )
    response = submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(
            last_name="Кара-Мурза",
            first_name="Владимир",
            patronymic="Владимирович",
            birth_year="1981",
            name_dative="Кара-Мурзе Владимиру Владимировичу",
        ),
    )
    assert response.status_code == 302
    db.session.refresh(prisoner)
    assert prisoner.name_overrides == {"dative": "Кара-Мурзе Владимиру Владимировичу"}
    public = page_text(organizer_client.get(f"/prisoners/{prisoner.id}"))
    assert "Кому: Кара-Мурзе Владимиру Владимировичу, 1981 г.р." in public

    # Emptying the field goes back to the computed form.
    submit(
        organizer_client,
        f"/manage/prisoners/{prisoner.id}/edit",
        prisoner_fields(
            last_name="Кара-Мурза",
            first_name="Владимир",
            patronymic="Владимирович",
            birth_year="1981",
            name_dative="",
        ),
    )
    db.session.refresh(prisoner)
    assert prisoner.name_overrides == {}


def test_prisoner_list_searches_in_latin_letters(organizer_client, colony):
    make_prisoner(colony)
    make_prisoner(colony, last_name="Иванова", first_name="Мария", patronymic="Петровна")
    text = page_text(organizer_client.get("/manage/prisoners?q=gorinov"))
    assert "Горинов Алексей Александрович" in text
    assert "Иванова" not in text
    assert "1 prisoner" in text


# --- transfers ------------------------------------------------------------------------------


def transfer(client, prisoner, destination: str, on: date, **extra: object):
    return submit(
        client,
        f"/manage/prisoners/{prisoner.id}/transfer",
        {"destination": destination, "moved_on": on.isoformat(), "status": "", **extra},
    )


def test_transfer_to_another_facility_moves_the_address(organizer_client, organizer, colony):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=100))
    sizo = make_facility(
        code="СИЗО-1",
        name="ФКУ СИЗО-1 УФСИН России по г. Москве",
        kind=FacilityKind.PRETRIAL,
        region="Москва",
        postcode="107076",
        locality="г. Москва",
        street_address="ул. Матросская Тишина, д. 18",
    )
    moved_on = TODAY - timedelta(days=3)
    response = transfer(organizer_client, prisoner, str(sizo.id), moved_on)
    assert flashed(follow(organizer_client, response)) == ["The transfer is recorded."]

    db.session.refresh(prisoner)
    old, new = sorted(prisoner.placements, key=lambda p: p.id)
    assert old.facility == colony and old.ended_on == moved_on
    assert new.facility == sizo and new.started_on == moved_on and new.ended_on is None
    # A pretrial detention centre: the status follows unless the organizer says otherwise.
    assert prisoner.status is PrisonerStatus.PRETRIAL

    public = page_text(organizer_client.get(f"/prisoners/{prisoner.id}"))
    assert "ФКУ СИЗО-1 УФСИН России по г. Москве" in public
    assert "ул. Матросская Тишина, д. 18" in public
    assert "107076" in public

    entry = audit_entries("prisoner", prisoner.id)[-1]
    assert entry.action == "transfer" and entry.user == organizer
    assert entry.changes["facility_id"] == [colony.id, sizo.id]
    assert entry.changes["status"] == ["convicted", "pretrial"]
    audit = page_text(organizer_client.get("/manage/audit?type=prisoner"))
    assert "transfer recorded" in audit
    assert "Facility: ИК-3, Владимирская область → СИЗО-1, Москва" in audit


def test_transfer_into_transit_then_to_the_new_facility(organizer_client, colony):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    left_on = TODAY - timedelta(days=20)
    response = transfer(organizer_client, prisoner, "transit", left_on, note="Этапирован")
    assert response.status_code == 302
    db.session.refresh(prisoner)
    assert prisoner.status is PrisonerStatus.IN_TRANSIT
    assert prisoner.current_placement.in_transit
    public = page_text(organizer_client.get(f"/prisoners/{prisoner.id}"))
    assert "whereabouts unknown for 20 days" in public
    assert "Кому:" not in public  # no address while in transit

    dashboard = page_text(organizer_client.get("/manage"))
    assert "whereabouts unknown for 20 days" in dashboard

    far_north = make_facility(
        code="ИК-3",
        name="ФКУ ИК-3 УФСИН России по Ямало-Ненецкому автономному округу",
        region="Ямало-Ненецкий автономный округ",
        postcode="629400",
        locality="пос. Харп",
        street_address="ул. Тундровая, д. 1",
    )
    found_on = TODAY - timedelta(days=2)
    response = transfer(
        organizer_client, prisoner, str(far_north.id), found_on, status="convicted"
    )
    assert response.status_code == 302
    db.session.refresh(prisoner)
    assert prisoner.status is PrisonerStatus.CONVICTED
    assert prisoner.current_facility == far_north
    placements = sorted(prisoner.placements, key=lambda p: p.id)
    assert [(p.facility_id, p.started_on, p.ended_on) for p in placements] == [
        (colony.id, TODAY - timedelta(days=200), left_on),
        (None, left_on, found_on),
        (far_north.id, found_on, None),
    ]
    public = page_text(organizer_client.get(f"/prisoners/{prisoner.id}"))
    assert "пос. Харп" in public and "629400" in public


@pytest.mark.parametrize(
    ("days_ago", "message"),
    [
        (150, "The current placement started on"),
        (-1, "This date is in the future."),
    ],
)
def test_impossible_transfer_dates_are_refused(organizer_client, colony, days_ago, message):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=100))
    other = make_facility(code="ИК-7", name="ФКУ ИК-7", postcode="123456")
    response = transfer(
        organizer_client, prisoner, str(other.id), TODAY - timedelta(days=days_ago)
    )
    assert response.status_code == 422
    assert message in page_text(response)
    db.session.refresh(prisoner)
    assert prisoner.current_facility == colony
    assert len(prisoner.placements) == 1 and prisoner.placements[0].ended_on is None
    assert audit_entries("prisoner", prisoner.id) == []


def test_transfer_to_where_the_person_already_is_is_refused(organizer_client, colony):
    prisoner = make_prisoner(colony)
    response = transfer(organizer_client, prisoner, str(colony.id), TODAY)
    assert response.status_code == 422
    assert "already recorded in this facility" in page_text(response)
    db.session.refresh(prisoner)
    assert len(prisoner.placements) == 1 and prisoner.placements[0].ended_on is None
    assert audit_entries("prisoner", prisoner.id) == []


def test_a_letter_sent_before_the_transfer_keeps_its_facility(organizer_client, colony):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=100))
    letter = make_letter(prisoner, written=TODAY - timedelta(days=10))
    other = make_facility(code="ИК-7", name="ФКУ ИК-7", postcode="123456")
    transfer(organizer_client, prisoner, str(other.id), TODAY)
    db.session.refresh(prisoner)
    assert prisoner.current_facility == other  # moved, and yet:
    db.session.refresh(letter)
    assert letter.facility_id == colony.id


def test_followers_are_alerted_in_the_same_transaction_as_the_transfer(organizer_client, colony):
    from app.models import Follow, OutboxMessage
    from app.models.base import utcnow
    from tests.mailbox import sent_mail

    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=100))
    following = Follow.made(prisoner_id=prisoner.id, token="f" * 43, email="friend@example.org")
    following.confirmed_at = utcnow()
    db.session.add(following)
    db.session.commit()

    refused = transfer(organizer_client, prisoner, "transit", TODAY + timedelta(days=1))
    assert refused.status_code == 422
    assert "This date is in the future." in page_text(refused)
    assert db.session.scalar(select(OutboxMessage)) is None

    done = transfer(organizer_client, prisoner, "transit", TODAY)
    assert flashed(follow(organizer_client, done)) == ["The transfer is recorded."]
    assert db.session.scalar(select(OutboxMessage)) is not None
    (message,) = sent_mail("transfer_alert")
    assert message.recipient == "friend@example.org"
    assert "Горинов" not in message.subject  # content-neutral subject


# --- facilities -----------------------------------------------------------------------------


def test_organizer_adds_and_edits_a_facility(organizer_client, organizer):
    response = submit(organizer_client, "/manage/facilities/new", facility_fields())
    assert flashed(follow(organizer_client, response)) == ["Added ИК-6."]
    facility_id = int(response.headers["Location"].split("/")[-2])
    response = submit(
        organizer_client,
        f"/manage/facilities/{facility_id}/edit",
        facility_fields(postcode="601 022", max_letter_pages="4", mail_rules="Не более 4 листов"),
    )
    assert response.status_code == 302
    created, updated = audit_entries("facility", facility_id)
    assert created.action == "create" and created.changes["code"] == [None, "ИК-6"]
    assert updated.changes["postcode"] == ["601021", "601022"]
    assert updated.changes["max_letter_pages"] == [None, 4]
    assert updated.user == organizer

    audit = page_text(organizer_client.get("/manage/audit?type=facility"))
    assert "Postcode: 601021 → 601022" in audit
    assert "ИК-6, Владимирская область" in audit


def test_facility_page_shows_who_is_there(organizer_client, colony):
    make_prisoner(colony)
    text = page_text(organizer_client.get(f"/manage/facilities/{colony.id}/edit"))
    assert "Горинов Алексей Александрович" in text
    listing = page_text(organizer_client.get("/manage/facilities"))
    assert re.search(r"ИК-3 .*Владимирская область 1\b", listing)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postcode": "60112"}, "exactly 6 digits"),
        ({"source_url": "ftp://example.org/list"}, "http:// or https://"),
        ({"max_letter_pages": "0"}, "from 1 to 100"),
        ({"country": "Russia"}, "Field cannot be longer than 2 characters."),
    ],
)
def test_bad_facility_input_is_refused(organizer_client, colony, changes, message):
    response = submit(
        organizer_client,
        f"/manage/facilities/{colony.id}/edit",
        facility_fields(locality="г. Новый", **changes),
    )
    assert response.status_code == 422
    assert message in page_text(response)
    assert 'value="г. Новый"' in response.get_data(as_text=True)
    db.session.refresh(colony)
    assert colony.locality == "г. Покров"


def test_a_foreign_postcode_need_not_have_six_digits(organizer_client):
    for country, postcode, region in [
        ("by", "220036", "Минская область"),
        ("KZ", "Z05K7", "Астана"),
    ]:
        response = submit(
            organizer_client,
            "/manage/facilities/new",
            facility_fields(country=country, postcode=postcode, region=region),
        )
        assert flashed(follow(organizer_client, response)) == ["Added ИК-6."]
    stored = db.session.execute(select(Facility.country, Facility.postcode).order_by(Facility.id))
    assert stored.all() == [("BY", "220036"), ("KZ", "Z05K7")]


# --- officials ------------------------------------------------------------------------------


def test_organizer_adds_and_edits_an_official(organizer_client, organizer, colony):
    response = submit(organizer_client, "/manage/officials/new", official_fields())
    assert flashed(follow(organizer_client, response)) == [
        "Added Начальник УФСИН России по Владимирской области."
    ]
    official = db.session.scalar(select(Official))
    assert official.jurisdiction is Jurisdiction.REGION
    assert official.jurisdiction_region == "Владимирская область"

    response = submit(
        organizer_client,
        f"/manage/officials/{official.id}/edit",
        official_fields(
            kind="facility_head",
            position="Начальник ФКУ ИК-3",
            position_dative="Начальнику ФКУ ИК-3",
            jurisdiction="facility",
            facility_id=str(colony.id),
        ),
    )
    assert response.status_code == 302
    db.session.refresh(official)
    assert official.facility == colony
    assert official.jurisdiction_region is None  # only the scope that applies is kept
    entry = audit_entries("official", official.id)[-1]
    assert entry.changes["facility_id"] == [None, colony.id]
    assert entry.changes["jurisdiction"] == ["region", "facility"]
    audit = page_text(organizer_client.get("/manage/audit?type=official"))
    assert "Answers for: A region → One facility" in audit
    assert "Facility: — → ИК-3, Владимирская область" in audit


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"jurisdiction": "facility", "facility_id": "None"},
            "facility_id",
            "Choose the facility",
        ),
        ({"jurisdiction": "region", "jurisdiction_region": ""}, "jurisdiction_region", "region"),
        ({"postcode": "1234567"}, "postcode", "6 digits"),
    ],
)
def test_bad_official_input_is_refused(organizer_client, changes, field, message):
    response = submit(
        organizer_client,
        "/manage/officials/new",
        official_fields(organisation="Прокуратура", **changes),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.findall(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', html)
    assert errors and message in unescape(errors[0])
    assert 'value="Прокуратура"' in html
    assert db.session.scalar(select(Official)) is None


# --- audit trail ----------------------------------------------------------------------------


def test_audit_trail_is_newest_first_filtered_and_paginated(app, organizer):
    prisoner = make_prisoner()
    facility = make_facility()
    for number in range(AUDIT_PER_PAGE + 5):
        record(
            organizer,
            "update",
            "prisoner",
            prisoner.id,
            {"sentence": [str(number), str(number + 1)]},
        )
    record(organizer, "update", "facility", facility.id, {"code": ["A", "B"]})
    db.session.commit()

    first = audit_page(organizer, page=1)
    assert first.total == AUDIT_PER_PAGE + 6
    assert first.rows[0].entity_type == "facility"  # newest
    assert first.pages == 2
    only_prisoners = audit_page(organizer, "prisoner", page=2)
    assert len(only_prisoners.rows) == 5
    assert {entry.entity_type for entry in only_prisoners.rows} == {"prisoner"}


def test_audit_page_rejects_an_unknown_filter(organizer_client):
    for url in ("/manage/audit?type=supporter", "/manage/audit?page=0"):
        response = organizer_client.get(url)
        assert response.status_code == 400
        assert "The request could not be understood." in page_text(response)


# --- performance ----------------------------------------------------------------------------


def add_a_few_of_everything(organizer, number: int) -> None:
    facility = make_facility(code=f"ИК-{number}", postcode="601120")
    prisoner = make_prisoner(facility, last_name=f"Иванов{number}")
    make_official(facility)
    transfer_prisoner(organizer, prisoner, PlacementData(None, TODAY))
    update_facility(
        organizer,
        facility,
        FacilityData(
            **{
                **{
                    key: getattr(facility, key)
                    for key in (
                        "code",
                        "name",
                        "kind",
                        "region",
                        "postcode",
                        "locality",
                        "street_address",
                    )
                },
                "mail_rules": "Не более 4 листов",
            }
        ),
    )
    db.session.commit()


@pytest.mark.parametrize(
    "url",
    ["/manage", "/manage/prisoners", "/manage/facilities", "/manage/officials", "/manage/audit"],
)
def test_list_pages_issue_a_constant_number_of_queries(organizer_client, organizer, url):
    add_a_few_of_everything(organizer, 1)
    organizer_client.get(url)  # the day's first prisoner list counts recent letters once
    db.session.expire_all()
    few = count_queries(organizer_client, url)
    for number in range(2, 7):
        add_a_few_of_everything(organizer, number)
    db.session.expire_all()
    assert count_queries(organizer_client, url) == few
