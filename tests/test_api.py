"""The JSON API: prisoners (read-only) and letters for the holder of a token."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.models import Channel, EventKind
from tests.factories import add_event, make_facility, make_letter, make_prisoner

TODAY = date.today()


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility())


@pytest.fixture
def letter(prisoner):
    return make_letter(prisoner, written=TODAY - timedelta(days=20))


def test_prisoner_list_with_search_and_pagination(client, prisoner):
    make_prisoner(None, last_name="Фёдорова", first_name="Алёна", patronymic="Игоревна")
    body = client.get("/api/v1/prisoners?q=gorinov").get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["id"] == prisoner.id
    assert item["full_name"] == "Горинов Алексей Александрович"
    assert item["full_name_dative"] == "Горинову Алексею Александровичу"
    assert item["status"] == "convicted"
    assert item["accepts_letters"] is True
    assert item["facility"]["code"] == "ИК-3"
    assert item["mailing_address"] == [
        "Горинову Алексею Александровичу, 1961 г.р.",
        "ФКУ ИК-3 УФСИН России по Владимирской области",
        "ул. Франца Штольверка, д. 100",
        "г. Покров",
        "Владимирская область",
        "601120",
    ]
    page = client.get("/api/v1/prisoners?per_page=1&page=2&sort=name").get_json()
    assert page["pages"] == 2 and page["items"][0]["full_name"].startswith("Фёдорова")


def test_prisoner_detail_matches_the_list(client, prisoner):
    detail = client.get(f"/api/v1/prisoners/{prisoner.id}").get_json()
    listed = client.get("/api/v1/prisoners").get_json()["items"][0]
    assert detail == listed


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("per_page=1000", "per_page"),
        ("status=x", "status"),
        ("sort=up", "sort"),
    ],
)
def test_bad_parameters_get_a_json_400_naming_the_field(client, prisoner, query, field):
    response = client.get(f"/api/v1/prisoners?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_unknown_ids_get_a_json_404(client, prisoner):
    for url in ("/api/v1/prisoners/999", "/api/v1/letters/" + "x" * 43):
        response = client.get(url)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"


def test_letter_status_events_and_delays(client, letter):
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=15), Channel.POST)
    add_event(letter, EventKind.ARRIVED, TODAY - timedelta(days=4))
    body = client.get(f"/api/v1/letters/{letter.token}").get_json()
    assert body["status"] == "delivered"
    assert [event["kind"] for event in body["events"]] == ["sent", "arrived"]
    assert body["delays"] == {"days_to_delivery": 11, "days_to_reply": None}
    assert "body" not in body and "signature" not in body


def test_reporting_through_the_api_needs_no_cookie(app, letter):
    client = app.test_client(use_cookies=False)
    response = client.post(
        f"/api/v1/letters/{letter.token}/events",
        json={"kind": "sent", "date": TODAY.isoformat(), "channel": "registered",
              "tracking_number": "80085292573414", "note": ""},
    )  # fmt: skip
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "sent"
    assert body["event"]["tracking_number"] == "80085292573414"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "lost", "date": "2026-01-01"}, "kind"),
        ({"kind": "sent", "date": "01.02.2026", "channel": "post"}, "date"),
        ({"kind": "sent", "date": (TODAY + timedelta(days=3)).isoformat(), "channel": "post"},
         "date"),
        ({"kind": "sent", "date": TODAY.isoformat(), "channel": "pigeon"}, "channel"),
        ({"kind": "sent", "date": TODAY.isoformat(), "channel": "registered",
          "tracking_number": "RA123456789RU"}, "tracking_number"),
        ({"kind": "reply", "date": TODAY.isoformat()}, "kind"),
        ({"kind": "sent", "date": TODAY.isoformat(), "channel": "post", "note": 5}, "note"),
    ],
)  # fmt: skip
def test_refused_reports_name_the_field(client, letter, payload, field):
    response = client.post(f"/api/v1/letters/{letter.token}/events", json=payload)
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_non_json_body_is_refused(client, letter):
    response = client.post(f"/api/v1/letters/{letter.token}/events", data="kind=sent")
    assert response.status_code == 422
    assert response.get_json()["field"] == "body"


def test_reporting_is_rate_limited(app, letter):
    app.config["RATELIMIT_PUBLIC_WRITES"] = "3 per minute"
    client = app.test_client()
    codes = [
        client.post(f"/api/v1/letters/{letter.token}/events", json={"kind": "x"}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [422, 422, 422]
    assert codes[3:] == [429, 429]


def test_prisoner_carries_all_six_name_forms(client, prisoner):
    forms = client.get(f"/api/v1/prisoners/{prisoner.id}").get_json()["name_forms"]
    assert forms == {
        "nominative": "Горинов Алексей Александрович",
        "genitive": "Горинова Алексея Александровича",
        "dative": "Горинову Алексею Александровичу",
        "accusative": "Горинова Алексея Александровича",
        "instrumental": "Гориновым Алексеем Александровичем",
        "prepositional": "Горинове Алексее Александровиче",
    }


def test_check_returns_findings_with_offsets_category_severity_and_reason(client, app):
    text = "Привет! Как продвигается уголовное дело? Позвони маме: +7 916 123-45-67."
    response = client.post("/api/v1/check", json={"text": text, "language": "ru"})
    assert response.status_code == 200
    body = response.get_json()
    found = {f["category"]: text[f["start"] : f["end"]] for f in body["findings"]}
    assert found["case_and_court"] == "уголовное дело"
    assert found["third_party_contacts"] == "+7 916 123-45-67"
    for finding in body["findings"]:
        assert finding["severity"] in {"low", "medium", "high"} and finding["reason"]
    assert body["pages"] == 1 and body["characters"] == len(text)


def test_check_explains_in_the_readers_language(client, app):
    response = client.post(
        "/api/v1/check",
        json={"text": "Как идёт уголовное дело?"},
        headers={"Accept-Language": "ru"},
    )
    reason = response.get_json()["findings"][0]["reason"]
    assert any("а" <= letter <= "я" for letter in reason.lower())


def test_check_does_not_flag_the_recipients_own_name(client, app):
    famous = make_prisoner(make_facility(), last_name="Кара-Мурза", first_name="Владимир",
                           patronymic="Владимирович")  # fmt: skip
    text = "Дорогой Владимир Кара-Мурза! Пишу Вам из Праги."
    anonymous = client.post("/api/v1/check", json={"text": text}).get_json()["findings"]
    assert [f["category"] for f in anonymous] == ["other_prisoners"]
    addressed = client.post("/api/v1/check", json={"text": text, "prisoner_id": famous.id})
    assert addressed.get_json()["findings"] == []


def test_check_applies_the_facilitys_page_limit(client, app):
    limited = make_prisoner(make_facility(max_letter_pages=1))
    text = "У нас всё спокойно, я читаю книги и гуляю в парке. " * 120
    body = client.post("/api/v1/check", json={"text": text, "prisoner_id": limited.id}).get_json()
    assert body["max_pages"] == 1 and body["pages"] >= 2
    assert [f["category"] for f in body["findings"]] == ["length"]


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ([1, 2], "body", 400),
        ({"text": 5}, "text", 400),
        ({"text": "x", "language": "de"}, "language", 400),
        ({"text": "x", "prisoner_id": "1"}, "prisoner_id", 400),
        ({"text": "x", "prisoner_id": 999}, "prisoner_id", 404),
        ({"text": "x" * 20001}, "text", 400),
    ],
)
def test_check_refuses_bad_input_naming_the_field(client, app, payload, field, status):
    response = client.post("/api/v1/check", json=payload)
    assert response.status_code == status
    assert response.get_json()["field"] == field


def test_appeal_events_through_the_api(client, app):
    from app.models import TemplateKind
    from tests.factories import make_official

    facility = make_facility()
    appeal = make_letter(make_prisoner(facility), written=TODAY - timedelta(days=40),
                         kind=TemplateKind.APPEAL, official=make_official(facility))  # fmt: skip
    add_event(appeal, EventKind.SENT, TODAY - timedelta(days=39), Channel.REGISTERED)
    url = f"/api/v1/letters/{appeal.token}/events"
    bad = client.post(url, json={"kind": "extended", "date": TODAY.isoformat()})
    assert bad.status_code == 422 and bad.get_json()["field"] == "extension_days"
    ok = client.post(
        url, json={"kind": "extended", "date": TODAY.isoformat(), "extension_days": 20}
    )
    assert ok.status_code == 201 and ok.get_json()["status"] == "extended"
    assert client.get(f"/api/v1/letters/{appeal.token}").get_json()["kind"] == "appeal"
