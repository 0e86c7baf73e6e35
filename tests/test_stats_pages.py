"""What people see of the statistics: /stats, facility and prisoner pages, export, API."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from flask import Flask

from app.models import Channel, EventKind, Facility, Prisoner, TemplateKind
from app.stats.advice import (
    DEFAULT_DELIVERY_DAYS,
    Occasion,
    next_birthday,
    next_new_year,
    send_by_dates,
)
from app.stats.services import Figures
from tests.conftest import count_queries
from tests.factories import add_event, make_facility, make_letter, make_prisoner

TODAY = date.today()


def _letters(
    prisoner: Prisoner, delays: list[int], *, start: int = 120, channel: Channel = Channel.POST
) -> None:
    """Letters sent ``start`` days ago, one a day, arriving after the given delays."""
    for number, delay in enumerate(delays):
        sent_on = TODAY - timedelta(days=start - number)
        letter = make_letter(prisoner, written=sent_on)
        add_event(letter, EventKind.SENT, sent_on, channel)
        add_event(letter, EventKind.ARRIVED, sent_on + timedelta(days=delay))


@pytest.fixture
def slow(app: Flask) -> tuple[Facility, Prisoner]:
    facility = make_facility(code="ИК-17", name="ФКУ ИК-17", region="Красноярский край")
    prisoner = make_prisoner(facility, birth_date=date(1980, 12, 30))
    _letters(prisoner, [30, 34, 40, 41, 50])  # median 40, p75 41, p90 46.4
    return facility, prisoner


@pytest.fixture
def quick(app: Flask) -> tuple[Facility, Prisoner]:
    facility = make_facility(code="СИЗО-1", name="ФКУ СИЗО-1", region="г. Москва")
    prisoner = make_prisoner(facility, last_name="Быстров")
    _letters(prisoner, [5, 6, 7, 8, 9, 10])
    withheld = make_letter(prisoner, written=TODAY - timedelta(days=80))
    add_event(withheld, EventKind.SENT, TODAY - timedelta(days=80), Channel.REGISTERED)
    add_event(withheld, EventKind.WITHHELD, TODAY - timedelta(days=60), note="цензура")
    return facility, prisoner


def test_stats_page_ranks_facilities_with_sample_sizes(client, slow, quick):
    html = client.get("/stats").get_data(as_text=True)
    slowest = html[html.index('id="slowest"') : html.index('id="withheld"')]
    # The slow colony comes first, with its median, 90th percentile and number of reports.
    assert slowest.index("ИК-17") < slowest.index("СИЗО-1")
    row = re.sub(r"\s+", " ", slowest[slowest.index("ИК-17") :])
    assert re.search(r"ИК-17</a>.*?>40</td>.*?>46.4</td>.*?>5</td>", row)
    assert "<svg" in slowest and "<table" in slowest  # a chart and the table beside it
    withheld = html[html.index('id="withheld"') : html.index('id="months"')]
    assert re.search(r"СИЗО-1</a>.*?14.3 %", re.sub(r"\s+", " ", withheld))  # 1 of 7


def test_stats_page_says_not_enough_reports(client, app):
    facility = make_facility(code="ИК-2")
    _letters(make_prisoner(facility), [10, 12])
    html = client.get("/stats").get_data(as_text=True)
    assert "No facility has enough reports of arrival yet." in html
    assert "not enough reports" in html


def test_stats_page_is_public_cacheable_and_conditional(client, slow):
    response = client.get("/stats")
    assert response.status_code == 200
    # Public, but asked again every time: a writer who just reported must see it counted.
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert "Accept-Language" in response.headers["Vary"]
    again = client.get("/stats", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""  # the browser shows the page it already has


def test_stats_page_in_russian(client, slow):
    client.set_cookie("konvert_lang", "ru")
    html = client.get("/stats", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Где задерживаются письма" in html
    assert "медиана" in html.lower() or "Медиана" in html


def test_a_report_changes_the_figures_at_once(client, slow):
    _, prisoner = slow
    before = client.get("/stats").get_data(as_text=True)
    assert re.search(r"ИК-17</a>.*?>40</td>", re.sub(r"\s+", " ", before))
    letter = make_letter(prisoner, written=TODAY - timedelta(days=20))
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=20), Channel.POST)
    add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=1))  # 19 days
    after = re.sub(r"\s+", " ", client.get("/stats").get_data(as_text=True))
    assert re.search(r"ИК-17</a>.*?>37</td>.*?>6</td>", after)  # median of 19 30 34 40 41 50


def test_facility_page_shows_figures_by_channel_and_month(client, quick):
    facility, _ = quick
    html = client.get(f"/facilities/{facility.id}").get_data(as_text=True)
    assert "How mail to this facility fared" in html
    assert "By channel" in html and "Month by month" in html
    assert "Registered post" in html and "Ordinary post" in html
    text = re.sub(r"\s+", " ", html)
    assert re.search(r"Median days to arrive</dt><dd>7.5 <small>\(6 reports\)", text)


def test_facility_page_figures_follow_reports_and_language(client, quick):
    """The facility's figures are kept rendered per snapshot and language: a report shows at
    once, and an English reader never gets the Russian tables or the other way round."""
    facility, prisoner = quick
    assert "By channel" in client.get(f"/facilities/{facility.id}").get_data(as_text=True)
    client.set_cookie("konvert_lang", "ru")
    russian = client.get(f"/facilities/{facility.id}").get_data(as_text=True)
    assert "По способу отправки" in russian and "By channel" not in russian
    client.set_cookie("konvert_lang", "en")
    letter = make_letter(prisoner, written=TODAY - timedelta(days=30))
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=30), Channel.POST)
    add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=10))  # 20 days
    text = re.sub(r"\s+", " ", client.get(f"/facilities/{facility.id}").get_data(as_text=True))
    assert "По способу отправки" not in text
    assert re.search(r"Median days to arrive</dt><dd>8 <small>\(7 reports\)", text)


def test_prisoner_page_says_how_long_and_when_to_send(client, slow):
    _, prisoner = slow
    html = re.sub(r"\s+", " ", client.get(f"/prisoners/{prisoner.id}").get_data(as_text=True))
    assert "Letters usually take 40 days to reach this facility" in html
    new_year = next_new_year(TODAY)
    send_by = new_year - timedelta(days=41)  # the 75th percentile, 41 days
    assert f"{send_by:%B} {send_by.day}, {send_by.year}" in html
    birthday = next_birthday(date(1980, 12, 30), TODAY)
    assert f"{birthday:%B} {birthday.day}, {birthday.year}" in html
    assert "Three letters in four arrived within 41 days." in html


def test_prisoner_page_falls_back_to_a_default_delay(client, app):
    prisoner = make_prisoner(make_facility())
    html = re.sub(r"\s+", " ", client.get(f"/prisoners/{prisoner.id}").get_data(as_text=True))
    assert "Not enough reports yet to say how long letters take" in html
    assert f"we allow {DEFAULT_DELIVERY_DAYS} days" in html


def test_send_by_dates_are_the_day_minus_the_75th_percentile():
    figures = Figures(p75_days_to_delivery=20.25, delivery_sample=9)
    today = date(2026, 12, 1)
    items = send_by_dates(figures, date(1990, 12, 25), today)
    assert [(item.occasion, item.day, item.send_by, item.passed) for item in items] == [
        (Occasion.BIRTHDAY, date(2026, 12, 25), date(2026, 12, 4), False),
        (Occasion.NEW_YEAR, date(2027, 1, 1), date(2026, 12, 11), False),
    ]
    late = send_by_dates(figures, None, date(2026, 12, 20))
    assert late[0].passed and late[0].send_by == date(2026, 12, 11)
    default = send_by_dates(Figures(), None, today)
    assert (default[0].days, default[0].from_reports) == (DEFAULT_DELIVERY_DAYS, False)


def test_next_birthday_handles_29_february_and_today():
    assert next_birthday(date(1988, 2, 29), date(2027, 1, 10)) == date(2027, 3, 1)
    assert next_birthday(date(1988, 2, 29), date(2027, 3, 2)) == date(2028, 2, 29)
    assert next_birthday(date(1990, 5, 4), date(2026, 5, 4)) == date(2026, 5, 4)
    assert next_new_year(date(2026, 1, 1)) == date(2027, 1, 1)


def test_export_csv_has_one_anonymous_row_per_letter(client, slow, quick):
    _, prisoner = slow
    appeal = make_letter(prisoner, written=TODAY - timedelta(days=5), kind=TemplateKind.APPEAL)
    add_event(appeal, EventKind.SENT, TODAY - timedelta(days=5), Channel.POST)
    make_letter(prisoner)  # never sent: not in the export
    response = client.get("/stats/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("facility_id,")  # plain UTF-8 by default
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5 + 7
    assert {row["is_demo"] for row in rows} == {"false"}  # booleans as other programs read them
    for_spreadsheets = client.get("/stats/export.csv?bom=1").data
    assert for_spreadsheets.startswith("\ufefffacility_id,".encode())
    assert list(rows[0]) == [
        "facility_id",
        "facility_code",
        "facility_name",
        "region",
        "country",
        "channel",
        "month_sent",
        "outcome",
        "days_to_delivery",
        "days_to_reply",
        "dates_excluded",
        "is_demo",
    ]
    outcomes = sorted(row["outcome"] for row in rows)
    assert outcomes == ["delivered"] * 11 + ["withheld"]
    assert sorted(
        int(row["days_to_delivery"]) for row in rows if row["facility_code"] == "ИК-17"
    ) == [
        30,
        34,
        40,
        41,
        50,
    ]
    # No names, no tokens, no signatures, no letter text, no day-exact dates.
    assert "Горинов" not in body and "Аня" not in body and "Тбилиси" not in body
    assert not re.search(r"\d{4}-\d{2}-\d{2}", body)
    link_hashes = [letter.token_hash for letter in prisoner.letters]
    assert not any(str(link_hash) in body for link_hash in link_hashes)


def test_export_json_matches_the_csv(client, slow, quick):
    data = json.loads(client.get("/stats/export.json").get_data(as_text=True))
    rows = list(
        csv.DictReader(io.StringIO(client.get("/stats/export.csv").get_data(as_text=True)))
    )
    assert data["columns"][0] == "facility_id" and len(data["letters"]) == len(rows) == 12
    first = data["letters"][0]
    assert first["facility_code"] == rows[0]["facility_code"]
    assert first["month_sent"] == rows[0]["month_sent"]
    assert isinstance(first["days_to_delivery"], int | None)


def test_api_facility_statistics_have_the_documented_keys(client, slow, quick):
    facility, _ = slow
    listing = client.get("/api/v1/stats/facilities")
    assert listing.headers["Cache-Control"] == "public, max-age=300"
    items = {item["facility"]["code"]: item for item in listing.get_json()["items"]}
    keys = {
        "letters_sent",
        "delivered",
        "answered",
        "returned",
        "withheld",
        "no_news",
        "median_days_to_delivery",
        "p90_days_to_delivery",
        "median_days_to_reply",
        "p90_days_to_reply",
        "withheld_or_returned_share",
        "sample_size",
    }
    assert keys <= set(items["ИК-17"])
    assert items["ИК-17"]["median_days_to_delivery"] == 40
    assert items["ИК-17"]["sample_size"] == 5
    assert items["ИК-17"]["median_days_to_reply"] is None  # no replies at all
    assert items["СИЗО-1"]["withheld_or_returned_share"] == round(1 / 7, 4)

    one = client.get(f"/api/v1/stats/facilities/{facility.id}").get_json()
    assert keys <= set(one)
    assert one["p90_days_to_delivery"] == pytest.approx(46.4)
    assert one["by_channel"]["post"]["letters_sent"] == 5
    unknown = client.get("/api/v1/stats/facilities/999999")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == "not_found"


def test_api_lists_facilities(client, slow, quick):
    response = client.get("/api/v1/facilities")
    assert sorted(item["code"] for item in response.get_json()["items"]) == ["ИК-17", "СИЗО-1"]
    assert response.headers["Cache-Control"].startswith("public")


def _more_facilities(count: int) -> None:
    for number in range(count):
        facility = make_facility(code=f"ИК-{100 + number}", region=f"Регион {number}")
        _letters(make_prisoner(facility, last_name=f"Петров{number}"), [10, 11, 12, 13, 14])


@pytest.mark.parametrize(
    "url", ["/stats", "/api/v1/stats/facilities", "/api/v1/facilities", "/stats/export.csv"]
)
def test_statistics_lists_issue_a_constant_number_of_queries(client, app, url):
    _more_facilities(2)
    client.get(url)  # the very first overview is computed on the spot; later ones refreshed
    _more_facilities(1)
    few = count_queries(client, url)
    _more_facilities(6)
    assert count_queries(client, url) == few
    unchanged = count_queries(client, url)
    assert unchanged <= few  # served from the snapshot until a report changes something


def test_facility_and_prisoner_pages_issue_a_constant_number_of_queries(client, app):
    from app.stats.services import precompute_facility_figures

    facility = make_facility()
    prisoner = make_prisoner(facility)
    _letters(prisoner, [10, 12, 14])

    def queries() -> tuple[int, ...]:
        """The pages' queries: figures just reported (counted on the spot), then stored."""
        counted = (
            count_queries(client, f"/facilities/{facility.id}"),
            count_queries(client, f"/prisoners/{prisoner.id}"),
        )
        precompute_facility_figures(date.today())  # what the background job does
        return (
            *counted,
            count_queries(client, f"/facilities/{facility.id}"),
            count_queries(client, f"/prisoners/{prisoner.id}"),
        )

    precompute_facility_figures(date.today())
    _letters(prisoner, [20], start=200)  # a report: the stored figures are out of date
    few = queries()
    _letters(prisoner, [10, 12, 14, 15, 16, 17, 18, 19], start=300)
    for number in range(4):
        make_prisoner(facility, last_name=f"Сидоров{number}")
    assert queries() == few
    assert few[2] < few[0] and few[3] < few[1]  # stored figures spare the six queries


def test_stats_serves_the_previous_overview_while_the_job_recounts(client, app, slow):
    """With a real queue, a report marks /stats out of date; readers get the previous figures
    and a note until the background job has recounted."""
    from app.jobs import huey
    from app.stats.tasks import refresh_overview

    _, prisoner = slow
    client.get("/stats")
    app.config["HUEY_IMMEDIATE"] = False  # a queue in the instance folder, no consumer
    try:
        letter = make_letter(prisoner, written=TODAY - timedelta(days=20))
        add_event(letter, EventKind.SENT, TODAY - timedelta(days=20), Channel.POST)
        add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=1))
        waiting = re.sub(r"\s+", " ", client.get("/stats").get_data(as_text=True))
        assert re.search(r"ИК-17</a>.*?>40</td>.*?>5</td>", waiting)  # the previous figures
        assert "the figures are being recounted" in waiting
        assert len(huey) >= 1  # the job is queued
        refresh_overview.call_local()  # what the consumer does
        fresh = re.sub(r"\s+", " ", client.get("/stats").get_data(as_text=True))
        assert re.search(r"ИК-17</a>.*?>37</td>.*?>6</td>", fresh)
        assert "the figures are being recounted" not in fresh
    finally:
        huey.flush()
        app.config["HUEY_IMMEDIATE"] = True
        from app.jobs import bind_queue

        bind_queue(app)


def test_stats_pages_kept_for_anonymous_readers_never_show_an_account(app, slow, organizer):
    from tests.conftest import log_in

    anonymous, signed_in = app.test_client(), app.test_client()
    log_in(signed_in, organizer)
    first = anonymous.get("/stats").get_data(as_text=True)  # rendered and kept
    mine = signed_in.get("/stats").get_data(as_text=True)
    again = anonymous.get("/stats").get_data(as_text=True)
    assert "Log out" in mine
    assert "Log out" not in first and "Log out" not in again
    assert again == first
