"""The directory: search, filters, ordering, prisoner and facility pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.extensions import db
from app.models import Channel, EventKind, FacilityKind, Placement, PrisonerStatus
from tests.conftest import count_queries, page_text
from tests.factories import add_event, make_facility, make_letter, make_prisoner


@pytest.fixture
def people(app):
    vladimir = make_facility()
    moscow = make_facility(
        code="СИЗО-1",
        name="ФКУ СИЗО-1 УФСИН России по г. Москве",
        kind=FacilityKind.PRETRIAL,
        region="г. Москва",
        postcode="127055",
        locality="г. Москва",
        street_address="ул. Новослободская, д. 45",
    )
    gorinov = make_prisoner(vladimir)
    fedorova = make_prisoner(
        moscow,
        last_name="Фёдорова",
        first_name="Алёна",
        patronymic="Игоревна",
        status=PrisonerStatus.PRETRIAL,
        birth_year=1990,
    )
    kim = make_prisoner(moscow, last_name="Ким", first_name="Саша", patronymic=None)
    released = make_prisoner(
        None,
        last_name="Абрамов",
        first_name="Пётр",
        patronymic="Ильич",
        status=PrisonerStatus.RELEASED,
        accepts_letters=False,
    )
    for _ in range(3):
        make_letter(gorinov)
    make_letter(kim)
    return {
        "gorinov": gorinov,
        "fedorova": fedorova,
        "kim": kim,
        "released": released,
        "vladimir": vladimir,
        "moscow": moscow,
    }


def names_in(html: str, people: dict) -> list[str]:
    found = [(html.find(p.full_name), key) for key, p in people.items() if hasattr(p, "full_name")]
    return [key for position, key in sorted(found) if position >= 0]


@pytest.mark.parametrize(
    "query", ["Фёдорова", "федорова", "ФЕДОРОВА Алена", "fedorova", "Alena Fedorova"]
)
def test_search_by_cyrillic_or_latin_ignoring_case_and_yo(client, people, query):
    html = client.get("/prisoners", query_string={"q": query}).get_data(as_text=True)
    assert names_in(html, people) == ["fedorova"]


def test_default_order_puts_fewest_recent_letters_first_and_non_receiving_last(client, people):
    html = client.get("/prisoners").get_data(as_text=True)
    assert names_in(html, people) == ["fedorova", "kim", "gorinov", "released"]


def test_old_letters_do_not_count_as_recent(client, people):
    for _ in range(5):
        make_letter(people["fedorova"], written=date.today() - timedelta(days=120))
    html = client.get("/prisoners").get_data(as_text=True)
    assert names_in(html, people)[0] == "fedorova"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"region": "г. Москва"}, {"fedorova", "kim"}),
        ({"status": "pretrial"}, {"fedorova"}),
        ({"accepts": "no"}, {"released"}),
    ],
)
def test_filters(client, people, args, expected):
    html = client.get("/prisoners", query_string=args).get_data(as_text=True)
    assert set(names_in(html, people)) == expected


def test_filter_by_facility(client, people):
    response = client.get("/prisoners", query_string={"facility": people["vladimir"].id})
    assert names_in(response.get_data(as_text=True), people) == ["gorinov"]


def test_filter_menus_keep_the_choice_and_escape_what_organizers_typed(app, client, people):
    odd = make_facility(code='ИК-<b>"7"</b>', region="Край & <i>область</i>")
    db.session.commit()
    html = client.get(
        "/prisoners", query_string={"facility": odd.id, "region": "г. Москва"}
    ).get_data(as_text=True)
    assert (
        f'<option value="{odd.id}" selected>ИК-&lt;b&gt;&#34;7&#34;&lt;/b&gt; — '
        "Край &amp; &lt;i&gt;область&lt;/i&gt;</option>"
    ) in html
    assert '<option value="г. Москва" selected>г. Москва</option>' in html
    assert f'<option value="{people["vladimir"].id}">' in html
    assert "<b>" not in html and "<i>" not in html


def test_pagination(app, client, people):
    app.config["PRISONERS_PER_PAGE"] = 2
    first = client.get("/prisoners", query_string={"sort": "name"}).get_data(as_text=True)
    second = client.get("/prisoners", query_string={"sort": "name", "page": 2})
    assert names_in(first, people) == ["released", "gorinov"]
    assert names_in(second.get_data(as_text=True), people) == ["kim", "fedorova"]
    assert 'rel="next"' in first


@pytest.mark.parametrize(
    "args", [{"page": "0"}, {"page": "x"}, {"status": "asleep"}, {"facility": "Владимир"}]
)
def test_bad_parameters_get_a_clear_400(client, people, args):
    response = client.get("/prisoners", query_string=args)
    assert response.status_code == 400
    assert 'role="alert"' in response.get_data(as_text=True)


def test_list_page_issues_a_constant_number_of_queries(app, client, people):
    app.config["PRISONERS_PER_PAGE"] = 50
    client.get("/prisoners")  # the day's first list counts recent letters once
    few = count_queries(client, "/prisoners")
    for index in range(12):
        prisoner = make_prisoner(people["moscow"], last_name=f"Иванов{index}")
        make_letter(prisoner)
    assert count_queries(client, "/prisoners") == few


def test_prisoner_page_shows_address_history_and_summary(client, people):
    gorinov = people["gorinov"]
    old = make_facility(
        code="СИЗО-2",
        name="ФКУ СИЗО-2 УФСИН России по Владимирской области",
        kind=FacilityKind.PRETRIAL,
        postcode="600000",
        locality="г. Владимир",
        street_address="ул. Большая Нижегородская, д. 67",
    )
    gorinov.placements.append(
        Placement(facility=old, started_on=date(2022, 4, 26), ended_on=date(2022, 9, 1))
    )
    db.session.commit()
    for index in range(5):
        letter = make_letter(gorinov, written=date.today() - timedelta(days=60))
        add_event(letter, EventKind.SENT, date.today() - timedelta(days=59), Channel.POST)
        add_event(letter, EventKind.ARRIVED, date.today() - timedelta(days=59 - 10 - index))
    html = client.get(f"/prisoners/{gorinov.id}").get_data(as_text=True)
    assert "Горинов Алексей Александрович" in html
    assert "Горинову Алексею Александровичу, 1961 г.р." in html
    assert "ФКУ ИК-3 УФСИН России по Владимирской области" in html
    assert "601120" in html
    assert "ФКУ СИЗО-2 УФСИН России по Владимирской области" in html  # history
    assert "Gorinov" in html
    assert f"/prisoners/{gorinov.id}/write" in html
    # Five deliveries after 10..14 days: the median is 12.
    assert ">12 <small>" in html


def test_prisoner_in_transit_has_no_address_but_a_warning(client, people):
    kim = people["kim"]
    kim.placements[0].ended_on = date.today() - timedelta(days=9)
    kim.placements.append(Placement(facility=None, started_on=date.today() - timedelta(days=9)))
    kim.status = PrisonerStatus.IN_TRANSIT
    db.session.commit()
    html = client.get(f"/prisoners/{kim.id}").get_data(as_text=True)
    assert "whereabouts unknown for 9 days" in html
    assert "Кому:" not in html


def test_facility_page(client, people):
    html = client.get(f"/facilities/{people['moscow'].id}").get_data(as_text=True)
    assert "ФКУ СИЗО-1 УФСИН России по г. Москве" in html
    assert "127055" in html
    assert "Фёдорова Алёна Игоревна" in html and "Ким Саша" in html
    assert "Горинов" not in html


@pytest.mark.parametrize("url", ["/prisoners/999", "/facilities/999", "/prisoners/abc"])
def test_unknown_ids_are_404(client, people, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "There is nothing here." in page_text(response)


def test_demo_records_are_labelled_fictional(client, people):
    people["kim"].is_demo = True
    db.session.commit()
    html = client.get(f"/prisoners/{people['kim'].id}").get_data(as_text=True)
    assert "Fictional (demo)" in html


def test_summary_counts_letters_by_what_happened_to_them(app, people):
    from app.stats.services import prisoner_figures

    kim = people["kim"]
    start = date.today() - timedelta(days=50)
    arrived_then_withheld = make_letter(kim, written=start)
    add_event(arrived_then_withheld, EventKind.SENT, start, Channel.POST)
    add_event(arrived_then_withheld, EventKind.ARRIVED, start + timedelta(days=8))
    add_event(arrived_then_withheld, EventKind.WITHHELD, start + timedelta(days=9), note="бланк")
    answered_without_arrival = make_letter(kim, written=start)
    add_event(answered_without_arrival, EventKind.SENT, start, Channel.POST)
    add_event(answered_without_arrival, EventKind.REPLY, start + timedelta(days=30))
    returned = make_letter(kim, written=start)
    add_event(returned, EventKind.SENT, start, Channel.REGISTERED)
    add_event(returned, EventKind.RETURNED, start + timedelta(days=20), note="выбыл")

    summary = prisoner_figures(kim.id)
    assert summary.letters_sent == 3  # the fixture's fourth letter was never sent
    assert summary.delivered == 2
    assert summary.answered == 1
    assert summary.withheld == 1
    assert summary.returned == 1
    assert summary.delivery_sample == 1 and summary.median_days_to_delivery is None


def test_suggest_sends_the_writer_to_someone_with_few_letters(client, people):
    response = client.get("/suggest")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/prisoners/{people['fedorova'].id}")
    assert f"/prisoners/{people['fedorova'].id}" in client.get("/").get_data(as_text=True)


def test_suggest_without_anyone_to_write_to_goes_to_the_list(client, app):
    assert client.get("/suggest").headers["Location"].endswith("/prisoners")


def test_recent_letter_counts_follow_new_and_deleted_letters(app, people):
    from app.directory.recent import ensure_counted
    from app.directory.services import PrisonerFilters, search_prisoners
    from app.models import RecentLetterCount

    def recent() -> dict[str, int]:
        page = search_prisoners(PrisonerFilters(), 1, 50)
        return {row.prisoner.last_name: row.recent_letters for row in page.rows}

    before = recent()
    fedorova = people["fedorova"]
    written_now = make_letter(fedorova)
    make_letter(fedorova)
    make_letter(fedorova, written=date.today() - timedelta(days=120))  # too old to count
    after = recent()
    assert after[fedorova.last_name] == before[fedorova.last_name] + 2
    counted = db.session.get(RecentLetterCount, fedorova.id)
    assert counted is not None and counted.letters == after[fedorova.last_name]

    db.session.delete(written_now)
    db.session.commit()
    assert recent()[fedorova.last_name] == before[fedorova.last_name] + 1
    ensure_counted(date.today() + timedelta(days=200))  # months later nothing is recent
    assert db.session.scalar(db.select(db.func.count()).select_from(RecentLetterCount)) == 0
