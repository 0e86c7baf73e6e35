"""Appeals: suggested addressees, composing, deadlines on the tracking page, PDF, overdue list."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.appeals.services import whole_months
from app.extensions import db
from app.library.services import sync_templates
from app.models import (
    Channel,
    EventKind,
    Jurisdiction,
    Letter,
    LetterStatus,
    OfficialKind,
    Placement,
    Template,
    TemplateKind,
)
from tests.conftest import flashed, follow, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_official, make_prisoner

TODAY = date.today()
APPEAL = """---
slug: test-appeal
kind: appeal
occasion: visits
language: ru
title: О свиданиях (тест)
variables: [prisoner, facility, official]
---
Прошу восстановить свидания {{ prisoner.forms.dative }}, содержащемуся в {{ facility.name }}.

Ответ прошу направить в письменной форме в срок, установленный 59-ФЗ.
"""


@pytest.fixture
def setting(app, tmp_path: Path):
    facility = make_facility()
    other = make_facility(code="ИК-6", name="ФКУ ИК-6 УФСИН России по Республике Коми",
                          region="Республика Коми", postcode="169600", locality="г. Печора",
                          street_address="ул. Лесная, д. 1")  # fmt: skip
    prisoner = make_prisoner(facility)
    head = make_official(facility)
    regional = make_official(
        None, kind=OfficialKind.REGIONAL_DIRECTORATE, jurisdiction=Jurisdiction.REGION,
        jurisdiction_region="Владимирская область",
        position="Начальник УФСИН России по Владимирской области",
        position_dative="Начальнику УФСИН России по Владимирской области",
        organisation="УФСИН России по Владимирской области",
        street_address="ул. Большая Нижегородская, д. 67", locality="г. Владимир",
        postcode="600020",
    )  # fmt: skip
    federal = make_official(
        None, kind=OfficialKind.FEDERAL_SERVICE, jurisdiction=Jurisdiction.FEDERAL,
        position="Директор Федеральной службы исполнения наказаний",
        position_dative="Директору Федеральной службы исполнения наказаний",
        organisation="ФСИН России", street_address="ул. Житная, д. 14", locality="г. Москва",
        region="г. Москва", postcode="119991",
    )  # fmt: skip
    elsewhere = make_official(
        other, position_dative="Начальнику ФКУ ИК-6 УФСИН России по Республике Коми"
    )
    folder = tmp_path / "letters"
    folder.mkdir()
    (folder / "appeal.md").write_text(APPEAL, encoding="utf-8")
    sync_templates(folder)
    db.session.commit()
    template = db.session.scalar(select(Template).where(Template.kind == TemplateKind.APPEAL))
    return {"prisoner": prisoner, "head": head, "regional": regional, "federal": federal,
            "elsewhere": elsewhere, "template": template}  # fmt: skip


def test_suggestions_put_the_facility_head_first_then_region_then_federal(client, setting):
    html = client.get(f"/prisoners/{setting['prisoner'].id}/appeal").get_data(as_text=True)
    head = html.find("Начальнику ФКУ ИК-3")
    regional = html.find("Начальнику УФСИН России по Владимирской области")
    federal = html.find("Директору Федеральной службы исполнения наказаний")
    assert 0 < head < regional < federal
    assert "Республике Коми" not in html


def test_in_transit_prisoner_gets_the_last_known_facility_and_federal_bodies(client, setting):
    prisoner = setting["prisoner"]
    prisoner.placements[0].ended_on = TODAY - timedelta(days=5)
    prisoner.placements.append(Placement(facility=None, started_on=TODAY - timedelta(days=5)))
    db.session.commit()
    html = client.get(f"/prisoners/{prisoner.id}/appeal").get_data(as_text=True)
    assert "Начальнику ФКУ ИК-3" in html and "Директору Федеральной службы" in html


def write_appeal(client, setting, **fields):
    url = f"/prisoners/{setting['prisoner'].id}/appeal/{setting['head'].id}"
    data = {"template_id": str(setting["template"].id), "language": "ru",
            "signature": "Смирнова Анна Петровна", "body": "", **fields}  # fmt: skip
    return submit(client, url, data)


def test_appeal_is_composed_in_the_right_cases_and_saved(client, setting):
    html = write_appeal(client, setting, apply_template="1").get_data(as_text=True)
    assert "Прошу восстановить свидания Горинову Алексею Александровичу, содержащемуся в " \
           "ФКУ ИК-3 УФСИН России по Владимирской области." in html  # fmt: skip
    body = html.split('name="body"')[1].split(">", 1)[1].split("</textarea>")[0]
    response = write_appeal(client, setting, body=body.replace("&#34;", '"'), save="1")
    assert response.status_code == 302
    appeal = db.session.scalar(select(Letter))
    appeal.unlock(response.headers["Location"].split("/t/", 1)[1].split("?", 1)[0])
    assert appeal.kind is TemplateKind.APPEAL
    assert appeal.official_id == setting["head"].id
    assert appeal.signature == "Смирнова Анна Петровна"
    assert appeal.sender_address is None


def test_unknown_official_or_prisoner_is_404(client, setting):
    for url in (f"/prisoners/{setting['prisoner'].id}/appeal/999", "/prisoners/999/appeal"):
        response = client.get(url)
        assert response.status_code == 404
        assert "There is nothing here." in page_text(response)


def make_appeal(setting, written=None):
    return make_letter(
        setting["prisoner"], written=written or TODAY - timedelta(days=80),
        kind=TemplateKind.APPEAL, official=setting["head"], signature="Смирнова Анна Петровна",
        body="Прошу восстановить свидания.\n",
    )  # fmt: skip


def report(client, letter, **fields):
    data = {"channel": "", "tracking_number": "", "note": "", "extension_days": "", **fields}
    return submit(client, f"/t/{letter.token}", data, action=f"/t/{letter.token}/events")


def test_tracking_page_shows_deadlines_once_sent(client, setting):
    appeal = make_appeal(setting, written=TODAY - timedelta(days=10))
    assert "Legal deadlines" not in client.get(f"/t/{appeal.token}").get_data(as_text=True)
    sent_on = TODAY - timedelta(days=9)
    report(client, appeal, kind="sent", happened_on=sent_on.isoformat(), channel="registered")
    report(client, appeal, kind="arrived", happened_on=(sent_on + timedelta(days=4)).isoformat())
    html = client.get(f"/t/{appeal.token}").get_data(as_text=True)
    assert "Legal deadlines (59-FZ)" in html
    registration = sent_on + timedelta(days=7)
    assert f"Registration due by</dt><dd>{registration.strftime('%b')}" in html.replace("\n", "")
    assert "days left for the answer." in html


def test_extension_moves_the_answer_due_date_and_only_once(client, setting):
    appeal = make_appeal(setting)
    add_event(appeal, EventKind.SENT, TODAY - timedelta(days=60), Channel.REGISTERED)
    add_event(appeal, EventKind.ARRIVED, TODAY - timedelta(days=55))
    bad = report(client, appeal, kind="extended", happened_on=TODAY.isoformat(),
                 extension_days="45")  # fmt: skip
    assert bad.status_code == 422 and "Number must be between 1 and 30" in bad.get_data(True)
    db.session.refresh(appeal)
    assert appeal.status is not LetterStatus.EXTENDED
    ok = report(
        client, appeal, kind="extended", happened_on=TODAY.isoformat(), extension_days="30"
    )
    assert flashed(follow(client, ok)) == ["Thank you. Your report was recorded."]
    db.session.refresh(appeal)
    assert appeal.status is LetterStatus.EXTENDED
    again = report(client, appeal, kind="extended", happened_on=TODAY.isoformat(),
                   extension_days="10")  # fmt: skip
    assert "already been reported" in again.get_data(as_text=True)
    assert [event.kind for event in appeal.events].count(EventKind.EXTENDED) == 1


def test_letters_to_prisoners_cannot_be_extended_or_refused(client, setting):
    letter = make_letter(setting["prisoner"], written=TODAY - timedelta(days=20))
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=19), Channel.POST)
    response = report(client, letter, kind="refused", happened_on=TODAY.isoformat())
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(letter)
    assert [event.kind for event in letter.events] == [EventKind.SENT]


def test_overdue_list_shows_unanswered_appeals_without_who_wrote_them(client, setting):
    late = make_appeal(setting)
    add_event(late, EventKind.SENT, TODAY - timedelta(days=70), Channel.REGISTERED)
    add_event(late, EventKind.ARRIVED, TODAY - timedelta(days=60))
    answered = make_appeal(setting)
    add_event(answered, EventKind.SENT, TODAY - timedelta(days=70), Channel.REGISTERED)
    add_event(answered, EventKind.REPLY, TODAY - timedelta(days=20))
    recent = make_appeal(setting, written=TODAY - timedelta(days=5))
    add_event(recent, EventKind.SENT, TODAY - timedelta(days=4), Channel.POST)
    html = client.get("/appeals/overdue", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.count("<tr>") == 2  # the header and the one overdue appeal
    assert "Смирнова" not in html and late.token not in html
    # Received 60 days ago: registration by day 57 ago, the answer by day 27 ago. Only months
    # are shown: in a small prison the day an appeal was sent can identify the family.
    sent_on, answer_due = TODAY - timedelta(days=70), TODAY - timedelta(days=27)
    months_overdue = whole_months(answer_due, TODAY)
    text = page_text(client.get("/appeals/overdue", headers={"Accept-Language": "en"}))
    assert f"{sent_on:%B %Y}" in text and f"{answer_due:%B %Y}" in text
    overdue_by = "less than a month" if months_overdue == 0 else "1 month"
    assert f'<td class="overdue-by">{overdue_by}</td>' in html  # no count of days
    for day in (sent_on, answer_due):
        assert day.isoformat() not in html
        assert f"{day:%b} {day.day}, {day.year}" not in html  # the English medium date


def test_overdue_list_in_russian_names_the_month(client, setting):
    late = make_appeal(setting)
    sent_on = date(2026, 3, 9)
    add_event(late, EventKind.SENT, sent_on, Channel.REGISTERED)
    text = page_text(client.get("/appeals/overdue", headers={"Accept-Language": "ru"}))
    assert "март 2026" in text and "9 мар" not in text
    assert "Просрочено на" in text


def test_appeal_pdf_layout_and_address_kept_only_on_request(app, client, setting):
    appeal = make_appeal(setting)
    page, action = f"/t/{appeal.token}", f"/t/{appeal.token}/pdf"
    form = {
        "envelope": "dl",
        "sender_name": "Смирнова Анна Петровна",
        "sender_address": "ул. Садовая, д. 5, кв. 7\n190000 г. Санкт-Петербург",
        "sender_country": "",
    }
    response = submit(client, page, form, action=action)
    reader = PdfReader(io.BytesIO(response.data))
    first = " ".join(reader.pages[0].extract_text().split())  # the right column wraps lines
    assert "Начальнику ФКУ ИК-3 УФСИН России по Владимирской области" in first
    assert "Заявитель: Смирнова Анна Петровна" in first
    assert "ул. Садовая, д. 5, кв. 7" in first
    assert "Обращение" in first and "Прошу восстановить свидания." in first
    assert "/ Смирнова Анна Петровна" in first  # the signature line
    envelope = reader.pages[-1].extract_text()
    assert "601120" in envelope and "190000 г. Санкт-Петербург" in envelope
    db.session.refresh(appeal)
    assert appeal.sender_address is None

    submit(client, page, {**form, "remember_address": "y"}, action=action)
    db.session.refresh(appeal)
    assert appeal.sender_address.startswith("ул. Садовая")
    again = PdfReader(io.BytesIO(client.get(f"/t/{appeal.token}/pdf").data))
    assert "ул. Садовая, д. 5, кв. 7" in " ".join(again.pages[0].extract_text().split())

    submit(client, page, form, action=action)  # unticked: forget it

    db.session.refresh(appeal)
    assert appeal.sender_address is None


def test_appeals_do_not_count_as_letters_to_the_prisoner(client, setting):
    appeal = make_appeal(setting)
    add_event(appeal, EventKind.SENT, TODAY - timedelta(days=60), Channel.REGISTERED)
    html = client.get(f"/prisoners/{setting['prisoner'].id}").get_data(as_text=True)
    assert "Reported sent</dt><dd>0" in html.replace("\n", "").replace("  ", "")
    assert client.get("/stats/export.csv").get_data(as_text=True).count("\n") == 1  # header


def test_appeal_page_has_no_letter_only_notices(client, setting):
    url = f"/prisoners/{setting['prisoner'].id}/appeal/{setting['head'].id}"
    html = client.get(url).get_data(as_text=True)
    assert "Language of the appeal" in html
    assert "not known to read this language" not in html
    assert 'id="risk-check"' not in html


def test_the_appeal_composer_speaks_of_appeals(client, setting):
    setting["prisoner"].notes_for_writers = "Любит письма о природе."
    db.session.commit()
    url = f"/prisoners/{setting['prisoner'].id}/appeal/{setting['head'].id}"
    text = page_text(client.get(url))
    assert "Your appeal" in text and "Your letter" not in text
    assert "What makes an appeal work" in text and "Number your requests" in text
    # No censor's advice, no censor-risk check and no notes meant for letters to the prisoner.
    assert "What gets through" not in text and "Любит письма о природе." not in text
    previewed = page_text(write_appeal(client, setting, apply_template="1", preview="1"))
    assert "Censor-risk check" not in previewed

    body = "Прошу восстановить свидания."
    saved = write_appeal(client, setting, body=body, save="1")
    tracking = follow(client, saved)
    assert "Your appeal is saved" in page_text(tracking)
    # Only what happens to an appeal can be reported: no censor, no "returned" or "no news".
    select_html = tracking.get_data(as_text=True).split('name="kind"')[1].split("</select>")[0]
    kinds = re.findall(r'<option[^>]*value="(\w+)"', select_html)
    assert sorted(kinds) == ["arrived", "extended", "refused", "reply", "sent"]
