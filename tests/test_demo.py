"""The fictional demo data set: shape, idempotence, dates, placements and declension.

Uses the shared ``app`` fixture from conftest.py (a migrated SQLite database per test).
"""

from __future__ import annotations

import random
import re
import shutil
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from app.appeals.federal import FEDERAL_BODIES, sync_federal_officials
from app.composer.services import template_context
from app.demo.data import DATA_DIR, DemoDataError, dative_position, demo_data, read_demo_data
from app.demo.plan import plan_letters, russian_post_number
from app.demo.services import load_demo_data
from app.extensions import db
from app.library.files import read_library
from app.library.sandbox import render_body
from app.models import (
    APPEAL_ONLY_EVENTS,
    Channel,
    EventKind,
    Facility,
    Jurisdiction,
    Letter,
    MailEvent,
    Official,
    OfficialKind,
    Placement,
    Prisoner,
    PrisonerStatus,
    TemplateKind,
)
from app.russian.names import Case, decline

TODAY = date(2026, 11, 23)

# The envelope line «Кому», written by hand: what every demo name must decline to.
EXPECTED_DATIVE = {
    "demo-p-gorelov": "Горелову Михаилу Андреевичу",
    "demo-p-safonova": "Сафоновой Ирине Викторовне",
    "demo-p-kara-murza": "Кара-Мурзе Ксении Андреевне",
    "demo-p-khan-girey": "Хан-Гирею Тимуру Руслановичу",
    "demo-p-morozova-klyuchevskaya": "Морозовой-Ключевской Ирине Львовне",
    "demo-p-volkov-lanskoy": "Волкову-Ланскому Андрею Сергеевичу",
    "demo-p-gasanov": "Гасанову Тофигу Ильхам оглы",
    "demo-p-mamedova": "Мамедовой Лейле Ариф кызы",
    "demo-p-garipov": "Гарипову Ильдару Ринатовичу",
    "demo-p-khabibullina": "Хабибуллиной Алсу Рамилевне",
    "demo-p-kovalenko": "Коваленко Оксане Петровне",
    "demo-p-weiss": "Вайсу Томасу",
    "demo-p-green": "Грин Элизабет",
    "demo-p-chernykh": "Черных Юлии Андреевне",
    "demo-p-sedykh": "Седых Антону Игоревичу",
    "demo-p-tsoy": "Цою Артёму Вадимовичу",
    "demo-p-kim": "Ким Виктории Сергеевне",
    "demo-p-melnik": "Мельнику Богдану Степановичу",
    "demo-p-zaytseva": "Зайцевой Любови Павловне",
    "demo-p-kudryavtsev": "Кудрявцеву Льву Ильичу",
    "demo-p-belykh": "Белых Марине Олеговне",
    "demo-p-durnovo": "Дурново Петру Аркадьевичу",
    "demo-p-golovach": "Головач Светлане Викторовне",
    "demo-p-solovyov": "Соловьёву Егору Максимовичу",
    "demo-p-prokhorov": "Прохорову Денису Олеговичу",
    "demo-p-andreev": "Андрееву Павлу Николаевичу",
    "demo-p-fomina": "Фоминой Анастасии Игоревне",
    "demo-p-nikitin": "Никитину Сергею Валентиновичу",
    "demo-p-orlov": "Орлову Илье Романовичу",
    "demo-p-tarasova": "Тарасовой Елене Михайловне",
    "demo-p-bogdanov": "Богданову Кириллу Евгеньевичу",
}

# Compound surnames whose first part does not decline: every case is checked, not only dative.
EXPECTED_ALL_CASES = {
    "demo-p-kara-murza": {
        Case.GENITIVE: "Кара-Мурзы Ксении Андреевны",
        Case.DATIVE: "Кара-Мурзе Ксении Андреевне",
        Case.ACCUSATIVE: "Кара-Мурзу Ксению Андреевну",
        Case.INSTRUMENTAL: "Кара-Мурзой Ксенией Андреевной",
        Case.PREPOSITIONAL: "Кара-Мурзе Ксении Андреевне",
    },
    "demo-p-khan-girey": {
        Case.GENITIVE: "Хан-Гирея Тимура Руслановича",
        Case.DATIVE: "Хан-Гирею Тимуру Руслановичу",
        Case.ACCUSATIVE: "Хан-Гирея Тимура Руслановича",
        Case.INSTRUMENTAL: "Хан-Гиреем Тимуром Руслановичем",
        Case.PREPOSITIONAL: "Хан-Гирее Тимуре Руслановиче",
    },
    "demo-p-morozova-klyuchevskaya": {
        Case.GENITIVE: "Морозовой-Ключевской Ирины Львовны",
        Case.ACCUSATIVE: "Морозову-Ключевскую Ирину Львовну",
        Case.INSTRUMENTAL: "Морозовой-Ключевской Ириной Львовной",
    },
    "demo-p-volkov-lanskoy": {
        Case.GENITIVE: "Волкова-Ланского Андрея Сергеевича",
        Case.INSTRUMENTAL: "Волковым-Ланским Андреем Сергеевичем",
        Case.PREPOSITIONAL: "Волкове-Ланском Андрее Сергеевиче",
    },
}


@pytest.fixture
def loaded(app):
    report = load_demo_data(TODAY)
    db.session.commit()
    return report


def _demo_prisoners() -> list[Prisoner]:
    return list(db.session.scalars(select(Prisoner).where(Prisoner.is_demo.is_(True))))


def _placement_on(prisoner: Prisoner, day: date) -> Placement | None:
    """The placement covering ``day``: started on or before it and not yet ended."""
    for placement in prisoner.placements:
        if placement.started_on <= day and (
            placement.ended_on is None or day < placement.ended_on
        ):
            return placement
    return None


def test_load_creates_a_realistic_data_set(loaded):
    assert not loaded.skipped
    assert loaded.prisoners >= 28
    assert loaded.facilities >= 12
    assert 130 <= loaded.letters <= 170
    assert loaded.events > loaded.letters

    prisoners = _demo_prisoners()
    facilities = list(db.session.scalars(select(Facility).where(Facility.is_demo.is_(True))))
    assert len(prisoners) >= 25
    assert len(facilities) >= 10
    assert len({facility.region for facility in facilities}) >= 3
    assert all(p.external_id.startswith("demo-p-") for p in prisoners)
    assert all(f.external_id.startswith("demo-f-") for f in facilities)
    assert db.session.scalar(select(func.count(Letter.id))) == loaded.letters
    assert db.session.scalar(select(func.count(MailEvent.id))) == loaded.events


def test_facilities_have_complete_postal_addresses(loaded):
    for facility in db.session.scalars(select(Facility).where(Facility.is_demo.is_(True))):
        assert re.fullmatch(r"\d{6}", facility.postcode), facility.code
        assert facility.country == "RU"
        assert facility.name.startswith("ФКУ ") and facility.code in facility.name
        assert facility.locality and facility.street_address and facility.region
        assert facility.source_url is None


def test_exactly_one_prisoner_in_transit_with_a_facility_less_open_placement(loaded):
    in_transit = [p for p in _demo_prisoners() if p.status is PrisonerStatus.IN_TRANSIT]
    assert len(in_transit) == 1
    prisoner = in_transit[0]
    current = prisoner.current_placement
    assert current is not None and current.facility_id is None and current.in_transit
    assert 14 <= (TODAY - current.started_on).days <= 28
    earlier = [p for p in prisoner.placements if p.ended_on is not None and p.facility_id]
    assert earlier and max(p.ended_on for p in earlier) == current.started_on
    # Letters were sent to the old facility just before the transfer.
    before = [
        letter
        for letter in prisoner.letters
        if 0 < (current.started_on - letter.created_at.date()).days <= 14
    ]
    assert before and all(letter.facility_id == earlier[0].facility_id for letter in before)


def test_statuses_and_placements_are_consistent(loaded):
    prisoners = _demo_prisoners()
    by_status = defaultdict(list)
    for prisoner in prisoners:
        by_status[prisoner.status].append(prisoner)
        open_placements = [p for p in prisoner.placements if p.ended_on is None]
        if prisoner.status is PrisonerStatus.RELEASED:
            assert not open_placements and not prisoner.accepts_letters
        else:
            assert len(open_placements) == 1
            assert prisoner.accepts_letters
        if prisoner.status is PrisonerStatus.PRETRIAL:
            assert prisoner.current_facility.code.startswith("СИЗО")
        for placement in prisoner.placements:
            assert placement.ended_on is None or placement.started_on < placement.ended_on
    assert len(by_status[PrisonerStatus.RELEASED]) == 1
    assert len(by_status[PrisonerStatus.PRETRIAL]) >= 3
    assert len(by_status[PrisonerStatus.CONVICTED]) > len(prisoners) / 2
    assert sum(len(p.placements) >= 3 for p in prisoners) >= 3
    assert {p.gender.value for p in prisoners} == {"m", "f"}
    assert any(not p.patronymic for p in prisoners)
    assert sum("-" in p.last_name for p in prisoners) >= 2
    assert {"ru", "ru,en", "ru,uk"} <= {p.languages for p in prisoners}


def test_loading_twice_creates_nothing_new(loaded):
    models = (Facility, Prisoner, Placement, Letter, MailEvent, Official)
    counts = [db.session.scalar(select(func.count(model.id))) for model in models]
    again = load_demo_data(TODAY)
    db.session.commit()
    assert again.skipped
    assert (again.facilities, again.prisoners, again.letters, again.events) == (0, 0, 0, 0)
    assert again.officials == 0
    assert counts == [db.session.scalar(select(func.count(model.id))) for model in models]


def test_event_dates_are_in_the_past_and_in_order(loaded):
    letters = list(db.session.scalars(select(Letter).where(Letter.kind == TemplateKind.LETTER)))
    for letter in letters:
        written = letter.created_at.date()
        assert TODAY - timedelta(days=250) <= written <= TODAY
        days = {}
        for event in letter.events:
            assert event.happened_on <= TODAY
            assert event.reported_at.date() <= TODAY
            assert event.reported_at.date() >= event.happened_on
            days.setdefault(event.kind, event.happened_on)
        if not days:
            continue
        sent = days[EventKind.SENT]
        assert written <= sent == min(days.values())
        if EventKind.ARRIVED in days:
            assert sent <= days[EventKind.ARRIVED]
        if EventKind.REPLY in days:
            assert days.get(EventKind.ARRIVED, sent) <= days[EventKind.REPLY]
            assert 20 <= (days[EventKind.REPLY] - sent).days <= 70
        if EventKind.NO_NEWS in days:
            assert (days[EventKind.NO_NEWS] - sent).days >= 60
    kinds = {event.kind for letter in letters for event in letter.events}
    assert kinds == set(EventKind) - APPEAL_ONLY_EVENTS  # the demo letters are no appeals
    assert any(not letter.events for letter in letters)


def test_each_letter_is_attributed_to_the_facility_on_its_sent_date(loaded):
    for letter in db.session.scalars(select(Letter)):
        sent = letter.first_event(EventKind.SENT)
        day = sent.happened_on if sent else letter.created_at.date()
        placement = _placement_on(letter.prisoner, day)
        assert placement is not None and placement.facility_id is not None
        assert letter.facility_id == placement.facility_id, (letter.prisoner.last_name, day)


def test_channels_and_tracking_numbers(loaded):
    sent_events = list(
        db.session.scalars(select(MailEvent).where(MailEvent.kind == EventKind.SENT))
    )
    channels = {event.channel for event in sent_events}
    assert {Channel.POST, Channel.REGISTERED, Channel.ELECTRONIC} <= channels
    # Stored encrypted with each letter's key, which nobody holds for demo letters: only
    # whether there is one can be read (the numbers themselves are checked in the plan).
    for event in sent_events:
        assert event.has_tracking_number == (event.channel is Channel.REGISTERED)
    planned = [event for plan in plan_letters(TODAY) for event in plan.events]
    for event in planned:
        if event.channel is Channel.REGISTERED:
            number = event.tracking_number
            assert number and re.fullmatch(r"\d{14}", number)
            weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(number[:13]))
            assert (weighted + int(number[13])) % 10 == 0
        else:
            assert event.tracking_number is None
    returned = db.session.scalars(select(MailEvent).where(MailEvent.kind == EventKind.RETURNED))
    assert all(event.has_note for event in returned)
    withheld = [event for event in planned if event.kind is EventKind.WITHHELD]
    assert any(event.note == "пришёл пустой бланк ответа" for event in withheld)


def test_some_prisoners_got_no_letters_recently(loaded):
    cutoff = TODAY - timedelta(days=90)
    quiet = [
        p
        for p in _demo_prisoners()
        if p.can_receive_letters
        and not any(letter.created_at.date() > cutoff for letter in p.letters)
    ]
    assert len(quiet) >= 3


def test_every_demo_name_declines_correctly_in_the_dative(loaded):
    prisoners = _demo_prisoners()
    assert {p.external_id for p in prisoners} == set(EXPECTED_DATIVE)
    for prisoner in prisoners:
        dative = decline(prisoner.person_name, Case.DATIVE)
        assert dative == EXPECTED_DATIVE[prisoner.external_id], prisoner.external_id


def test_compound_surnames_decline_correctly_in_every_case(loaded):
    by_id = {p.external_id: p for p in _demo_prisoners()}
    for external_id, forms in EXPECTED_ALL_CASES.items():
        for case, expected in forms.items():
            assert decline(by_id[external_id].person_name, case) == expected


def test_the_plan_is_deterministic_for_a_given_day():
    first, second = plan_letters(TODAY), plan_letters(TODAY)
    assert [(p.prisoner_key, p.written_on, p.body, p.events) for p in first] == [
        (p.prisoner_key, p.written_on, p.body, p.events) for p in second
    ]


def test_loading_without_a_date_uses_today(app):
    report = load_demo_data()
    assert report.letters > 0
    latest = db.session.scalar(select(func.max(MailEvent.happened_on)))
    assert latest <= date.today()


def test_russian_post_number_has_a_valid_check_digit():
    number = russian_post_number(random.Random(1), "101000", 3)
    assert len(number) == 14 and number.startswith("10100003")
    # A known-good number: the check digit makes the weighted sum a multiple of ten.
    weighted = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(number[:13]))
    assert (weighted + int(number[-1])) % 10 == 0


def test_every_placement_refers_to_a_known_facility():
    keys = {facility.key for facility in demo_data().facilities}
    for prisoner in demo_data().prisoners:
        assert all(p.facility is None or p.facility in keys for p in prisoner.placements)
        assert sum(p.end_ago is None for p in prisoner.placements) <= 1


# --- The data files ----------------------------------------------------------------------------

DATA_FILES = ("facilities.yaml", "prisoners.yaml", "officials.yaml", "letters.yaml")


def _rewritten(folder: Path, name: str, change: Callable[[dict], object]) -> Path:
    """A copy of the demo data files in ``folder`` with ``change`` applied to file ``name``."""
    for data_file in DATA_FILES:
        shutil.copy(DATA_DIR / data_file, folder / data_file)
    content = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
    change(content)
    (folder / name).write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    return folder


def _prisoner(content: dict, key: str) -> dict:
    return next(item for item in content["prisoners"] if item["key"] == key)


def _facility(content: dict, key: str) -> dict:
    return next(item for item in content["facilities"] if item["key"] == key)


def test_the_package_data_files_are_the_ones_read():
    assert sorted(path.name for path in DATA_DIR.glob("*.yaml")) == sorted(DATA_FILES)
    assert len(demo_data().facilities) == 17 and len(demo_data().prisoners) == 31


def test_rewriting_a_data_file_without_changes_reads_the_same_data(tmp_path):
    # The control for the malformed cases below: only their change makes them fail.
    for name in DATA_FILES:
        assert read_demo_data(_rewritten(tmp_path, name, lambda content: None)) == demo_data()


MALFORMED: list[tuple[str, Callable[[dict], object], str]] = [
    (
        "prisoners.yaml",
        lambda c: _prisoner(c, "gorelov").pop("case_summary"),
        "prisoners.yaml: prisoner 'gorelov': missing key 'case_summary'",
    ),
    (
        "prisoners.yaml",
        lambda c: _prisoner(c, "gorelov").update(nickname="Миша"),
        "prisoners.yaml: prisoner 'gorelov': unknown key 'nickname'",
    ),
    (
        "prisoners.yaml",
        lambda c: _prisoner(c, "weiss").update(gender="x"),
        "prisoners.yaml: prisoner 'weiss': gender: 'x' is not one of 'f', 'm'",
    ),
    (
        "prisoners.yaml",
        lambda c: _prisoner(c, "kim").update(detained_ago="92"),
        "prisoners.yaml: prisoner 'kim': detained_ago: expected a whole number, got '92'",
    ),
    (
        "prisoners.yaml",
        lambda c: _prisoner(c, "gorelov")["placements"][2].update(facility="vlad-ik66"),
        "prisoners.yaml: prisoner 'gorelov': placements[2]: facility: "
        "unknown facility 'vlad-ik66'",
    ),
    (
        "prisoners.yaml",
        lambda c: _prisoner(c, "kara-murza")["name_overrides"].update(vocative="Ксения"),
        "prisoners.yaml: prisoner 'kara-murza': name_overrides: unknown case 'vocative'",
    ),
    (
        "prisoners.yaml",
        lambda c: c["prisoners"].append(dict(_prisoner(c, "kim"))),
        "prisoners.yaml: prisoner 'kim' appears twice",
    ),
    (
        "prisoners.yaml",
        lambda c: c["prisoners"].insert(0, "Горелов Михаил Андреевич"),
        "prisoners.yaml: prisoner #1: expected a mapping",
    ),
    (
        "facilities.yaml",
        lambda c: _facility(c, "msk-sizo1").update(postcode=107076),
        "facilities.yaml: facility 'msk-sizo1': postcode: expected text, got 107076 (quote it)",
    ),
    (
        "facilities.yaml",
        lambda c: _facility(c, "komi-ik49").update(mail="far"),
        "facilities.yaml: facility 'komi-ik49': mail: unknown mail profile 'far'",
    ),
    (
        "facilities.yaml",
        lambda c: c["mail_profiles"]["near"].update(arrival_days=[7]),
        "facilities.yaml: mail_profiles: near: arrival_days: expected 2 items, got 1",
    ),
    (
        "officials.yaml",
        lambda c: c["regions"][0].pop("ombudsman_address"),
        "officials.yaml: region 'msk': missing key 'ombudsman_address'",
    ),
    (
        "officials.yaml",
        lambda c: c["regions"][0].update(prosecutor="Прокуратура города Москвы"),
        "officials.yaml: prosecutor-msk: no dative form known",
    ),
    (
        "letters.yaml",
        lambda c: c["seasons_ru"].pop("autumn"),
        "letters.yaml: seasons_ru: needs exactly winter, spring, summer, autumn",
    ),
    (
        "letters.yaml",
        lambda c: c["appeals"]["plans"][0]["events"][0].update(kind="posted"),
        "letters.yaml: appeals: plans[0]: events[0]: kind: 'posted' is not one of",
    ),
    (
        "letters.yaml",
        lambda c: c.pop("openers_en"),
        "letters.yaml: missing key 'openers_en'",
    ),
]


@pytest.mark.parametrize(("name", "change", "message"), MALFORMED)
def test_a_malformed_entry_is_refused_with_where_and_what(tmp_path, name, change, message):
    with pytest.raises(DemoDataError) as error:
        read_demo_data(_rewritten(tmp_path, name, change))
    assert str(error.value).startswith(message), str(error.value)


def test_a_file_that_is_not_yaml_is_named(tmp_path):
    for data_file in DATA_FILES:
        shutil.copy(DATA_DIR / data_file, tmp_path / data_file)
    (tmp_path / "letters.yaml").write_text("openers_ru: [unclosed\n", encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"^letters\.yaml: not valid YAML"):
        read_demo_data(tmp_path)


def test_every_library_template_renders_for_every_demo_prisoner(loaded):
    specs = read_library(Path(__file__).resolve().parent.parent / "letters")
    specs = [spec for spec in specs if spec.kind is TemplateKind.LETTER]
    for prisoner in _demo_prisoners():
        for spec in specs:
            context = template_context(prisoner, "Марк", spec.language, TODAY)
            text = render_body(spec.body, context)
            assert text.strip().endswith("Марк")
            if spec.slug == "ongoing-support" and spec.language == "ru":
                alone = "не одна" if prisoner.gender.value == "f" else "не один"
                assert f"Вы {alone}:" in text, prisoner.external_id


# --- Officials ---------------------------------------------------------------------------------

DATIVE_HEADS = ("Начальнику ", "Прокурору ", "Уполномоченному ", "Директору ", "Генеральному ")
REGIONAL_KINDS = (
    OfficialKind.REGIONAL_DIRECTORATE,
    OfficialKind.PROSECUTOR,
    OfficialKind.REGIONAL_OMBUDSMAN,
)


def _officials(**filters: object) -> list[Official]:
    query = select(Official).filter_by(**filters)
    return list(db.session.scalars(query))


def test_the_load_reports_its_officials(loaded):
    assert loaded.officials == len(demo_data().officials) + len(FEDERAL_BODIES)
    assert len(_officials(is_demo=True)) == len(demo_data().officials)
    assert all(o.external_id.startswith("demo-o-") for o in _officials(is_demo=True))


def test_every_demo_facility_has_exactly_one_head(loaded):
    heads = _officials(kind=OfficialKind.FACILITY_HEAD)
    for facility in db.session.scalars(select(Facility).where(Facility.is_demo.is_(True))):
        mine = [head for head in heads if head.facility_id == facility.id]
        assert len(mine) == 1, facility.code
        head = mine[0]
        assert head.jurisdiction is Jurisdiction.FACILITY
        assert head.position == f"Начальник {facility.name}"
        assert head.position_dative == f"Начальнику {facility.name}"
        assert head.organisation == facility.name
        assert (head.postcode, head.locality, head.street_address, head.region) == (
            facility.postcode,
            facility.locality,
            facility.street_address,
            facility.region,
        )


def test_every_region_with_a_demo_facility_has_its_regional_bodies(loaded):
    regions = set(db.session.scalars(select(Facility.region).where(Facility.is_demo.is_(True))))
    for region in regions:
        bodies = _officials(jurisdiction_region=region)
        for kind in REGIONAL_KINDS:
            mine = [body for body in bodies if body.kind is kind]
            assert len(mine) == 1, (region, kind)
            assert mine[0].jurisdiction is Jurisdiction.REGION
            assert mine[0].facility_id is None
    # Regional bodies only where there are facilities to supervise.
    regional = [o for o in _officials(is_demo=True) if o.kind in REGIONAL_KINDS]
    assert {o.jurisdiction_region for o in regional} == regions


def test_the_directorate_is_the_one_named_in_its_facilities(loaded):
    directorates = {
        o.jurisdiction_region: o for o in _officials(kind=OfficialKind.REGIONAL_DIRECTORATE)
    }
    for facility in demo_data().facilities:
        directorate = directorates[facility.region]
        assert facility.name.endswith(f" {directorate.organisation}"), facility.key
        assert directorate.position == f"Начальник {directorate.organisation}"
        assert directorate.position_dative == f"Начальнику {directorate.organisation}"
    assert directorates["Свердловская область"].organisation.startswith("ГУФСИН России")
    assert directorates["Красноярский край"].organisation.startswith("ГУФСИН России")
    assert directorates["г. Москва"].organisation == "УФСИН России по г. Москве"


def test_regional_positions_read_correctly_in_russian(loaded):
    by_id = {o.external_id: o for o in _officials(is_demo=True)}
    prosecutor = by_id["demo-o-prosecutor-vlad"]
    assert prosecutor.position_dative == (
        "Прокурору по надзору за соблюдением законов в исправительных учреждениях "
        "Владимирской области"
    )
    assert prosecutor.organisation.startswith("Прокуратура по надзору")
    assert by_id["demo-o-ombudsman-vlad"].position_dative == (
        "Уполномоченному по правам человека во Владимирской области"
    )
    assert by_id["demo-o-prosecutor-msk"].position_dative == "Прокурору города Москвы"
    assert by_id["demo-o-ufsin-krsk"].position_dative == (
        "Начальнику ГУФСИН России по Красноярскому краю"
    )


def test_every_position_is_addressed_in_the_dative(loaded):
    officials = _officials()
    assert officials
    for official in officials:
        assert official.position_dative.startswith(DATIVE_HEADS), official.external_id
        if official.is_demo:
            # Only the head word declines; the rest of the position stays as it is.
            rest = official.position.split(" ", 1)[1]
            assert official.position_dative.split(" ", 1)[1] == rest, official.external_id


def test_every_official_has_a_complete_postal_address(loaded):
    for official in _officials():
        assert re.fullmatch(r"\d{6}", official.postcode), official.external_id
        assert official.street_address and official.locality and official.region
        assert official.organisation


def test_the_real_federal_bodies_are_loaded_with_their_sources(loaded):
    federal = {o.external_id: o for o in _officials(jurisdiction=Jurisdiction.FEDERAL)}
    assert set(federal) == {"federal-fsin", "federal-prosecutor-general", "federal-ombudsman"}
    assert federal["federal-fsin"].kind is OfficialKind.FEDERAL_SERVICE
    assert federal["federal-prosecutor-general"].kind is OfficialKind.PROSECUTOR_GENERAL
    assert federal["federal-ombudsman"].kind is OfficialKind.OMBUDSMAN
    assert federal["federal-fsin"].position_dative == (
        "Директору Федеральной службы исполнения наказаний"
    )
    for official in federal.values():
        assert official.source_url and official.source_url.startswith("https://")
        assert not official.is_demo
        assert official.facility_id is None and official.jurisdiction_region is None


def test_syncing_the_federal_bodies_is_idempotent_and_repairs_edits(app):
    assert sync_federal_officials() == 3
    assert sync_federal_officials() == 0
    fsin = db.session.scalar(select(Official).where(Official.external_id == "federal-fsin"))
    fsin.postcode = "000000"
    assert sync_federal_officials() == 1
    assert fsin.postcode == FEDERAL_BODIES[0].postcode
    assert db.session.scalar(select(func.count(Official.id))) == 3


def test_demo_officials_data_is_consistent():
    keys = [official.external_id for official in demo_data().officials]
    assert len(keys) == len(set(keys))
    facility_keys = {facility.key for facility in demo_data().facilities}
    for official in demo_data().officials:
        assert (official.facility is None) == (official.kind is not OfficialKind.FACILITY_HEAD)
        assert official.facility is None or official.facility in facility_keys
    with pytest.raises(ValueError):
        dative_position("Министр юстиции")


def test_every_appeal_template_renders_for_every_demo_prisoner(loaded):
    specs = read_library(Path(__file__).resolve().parent.parent / "letters")
    appeals = [spec for spec in specs if spec.kind is TemplateKind.APPEAL]
    assert len(appeals) >= 5
    heads = {o.facility_id: o for o in _officials(kind=OfficialKind.FACILITY_HEAD)}
    for prisoner in _demo_prisoners():
        facility = prisoner.last_known_facility
        official = heads[facility.id]
        context = template_context(prisoner, "Марк", "ru", TODAY, official=official)
        forms = context["prisoner"]["forms"]
        for spec in appeals:
            text = render_body(spec.body, context)
            assert forms["genitive"] in text or forms["dative"] in text
            assert facility.name in text, (spec.slug, prisoner.external_id)
            assert "59-ФЗ" in text and "Марк" not in text


def test_demo_appeals_show_each_stage_of_the_legal_term(loaded):
    from app.appeals.services import deadlines, overdue_appeals

    appeals = list(db.session.scalars(select(Letter).where(Letter.kind == TemplateKind.APPEAL)))
    assert len(appeals) == 5
    assert all(a.official and a.official.kind.value == "facility_head" for a in appeals)
    statuses = sorted(a.status.value for a in appeals)
    assert statuses == ["answered", "delivered", "extended", "sent", "written"]
    overdue = overdue_appeals(TODAY, assumed_delivery_days=7)
    assert len(overdue) == 1 and overdue[0].days_overdue == 80 - 33
    extended = next(a for a in appeals if a.status.value == "extended")
    assert not deadlines(extended, 7).is_overdue(TODAY)
