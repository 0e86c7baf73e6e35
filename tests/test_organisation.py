"""The organisation's settings: the admin's page at /admin/organisation and `flask organisation`,
with the same rules, every change audited."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.mailroom.organisation import current_organisation, organisation_for_update
from app.models import AuditEntry, Organisation, Role
from tests.conftest import flashed, follow, log_in, page_text, submit
from tests.factories import make_user

PAGE = "/admin/organisation"
TODAY = date.today()
ADDRESS = "а/я 12\nг. Москва"

FILLED = {
    "name": "Письма свободы",
    "return_address": ADDRESS,
    "postcode": "101000",
    "country": "RU",
    "mailroom_open": "y",
    "reply_window_days": "180",
    "daily_intake_cap": "200",
    "prisoner_daily_cap": "5",
    "next_run_on": "",
    "translation_claim_minutes": "120",
}


def stored() -> Organisation:
    db.session.expire_all()
    return current_organisation()


def organisation_audit() -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "organisation")
            .order_by(AuditEntry.id)
        )
    )


def field_value(html: str, name: str) -> str | None:
    """The value an input shows (what was typed stays in the form)."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html
    )
    return unescape(match.group(1)) if match else None


def test_an_admin_sets_the_organisation_and_opens_the_mailroom(client, admin):
    log_in(client, admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert field_value(html, "reply_window_days") == "180"  # the defaults before anything is set
    assert "The mailroom is closed." in page_text(page)
    assert '<option selected value="RU">Russia</option>' in html

    next_run = (TODAY + timedelta(days=10)).isoformat()
    response = submit(client, page, {**FILLED, "next_run_on": next_run}, action=PAGE)
    assert response.status_code == 302
    shown = follow(client, response)
    assert flashed(shown) == ["Saved."]
    assert "The mailroom is open." in page_text(shown)

    organisation = stored()
    assert organisation.can_take_letters
    assert organisation.return_lines == ["а/я 12", "г. Москва"]
    assert (organisation.postcode, organisation.country) == ("101000", "RU")
    assert organisation.next_run_on == TODAY + timedelta(days=10)

    (entry,) = organisation_audit()
    assert entry.user_id == admin.id and entry.action == "update" and entry.entity_id == 1
    # Changes from the defaults it had before anyone set it, and only those.
    assert entry.changes["name"] == ["", "Письма свободы"]
    assert entry.changes["mailroom_open"] == [False, True]
    assert "country" not in entry.changes  # RU, as by default
    # The organisation's own fields, nothing else (no id, no timestamps, nobody's data).
    assert set(entry.changes) <= set(FILLED)


def test_an_admin_sets_the_translation_desks_review_and_claim_minutes(client, admin):
    log_in(client, admin)
    assert (
        field_value(client.get(PAGE).get_data(as_text=True), "translation_claim_minutes") == "120"
    )
    response = submit(
        client, PAGE, {**FILLED, "translation_review": "y", "translation_claim_minutes": "45"}
    )
    assert flashed(follow(client, response)) == ["Saved."]
    organisation = stored()
    assert organisation.translation_review and organisation.translation_claim_minutes == 45
    refused = submit(client, PAGE, {**FILLED, "translation_claim_minutes": "5"})
    assert refused.status_code == 422
    assert "Give a whole number from 15 to 2880." in page_text(refused)


def test_saving_again_without_changes_records_nothing(client, admin):
    log_in(client, admin)
    submit(client, PAGE, FILLED)
    response = submit(client, PAGE, {**FILLED, "return_address": "  а/я 12 \n\n г. Москва  "})
    assert flashed(follow(client, response)) == ["Nothing was changed."]
    assert len(organisation_audit()) == 1

    response = submit(client, PAGE, {**FILLED, "daily_intake_cap": "50"})
    assert flashed(follow(client, response)) == ["Saved."]
    assert organisation_audit()[-1].changes == {"daily_intake_cap": [200, 50]}


@pytest.mark.parametrize("missing", ["name", "return_address"])
def test_the_mailroom_does_not_open_without_a_name_and_return_address(client, admin, missing):
    log_in(client, admin)
    response = submit(client, PAGE, {**FILLED, missing: "  "})
    assert response.status_code == 422
    text = page_text(response)
    assert "The mailroom cannot open without the organisation's name and return address" in text
    assert "the mailroom cannot open without it." in text
    html = response.get_data(as_text=True)
    assert field_value(html, "postcode") == "101000"  # nothing typed is lost
    assert "г. Москва" in html or missing == "return_address"
    assert stored().mailroom_open is False
    assert db.session.get(Organisation, 1) is None and organisation_audit() == []

    # Closed, the same settings are kept: the mailroom opens later.
    closed = {key: value for key, value in FILLED.items() if key != "mailroom_open"}
    response = submit(client, PAGE, {**closed, missing: ""})
    assert response.status_code == 302
    assert stored().mailroom_open is False and stored().postcode == "101000"


def test_bad_values_are_refused_beside_their_fields_and_kept(client, admin):
    log_in(client, admin)
    typed = {
        **FILLED,
        "postcode": "1010",
        "reply_window_days": "5",
        "daily_intake_cap": "3",
        "prisoner_daily_cap": "4",
        "next_run_on": (TODAY - timedelta(days=1)).isoformat(),
    }
    response = submit(client, PAGE, typed)
    assert response.status_code == 422
    text = page_text(response)
    assert "A Russian postcode has exactly 6 digits." in text
    assert "Give a whole number from 30 to 730." in text
    assert "Cannot be more than the letters the mailroom takes in a day." in text
    assert "The next print run cannot be in the past." in text
    html = response.get_data(as_text=True)
    for name in ("postcode", "reply_window_days", "daily_intake_cap", "prisoner_daily_cap"):
        assert field_value(html, name) == typed[name], name
    assert 'aria-invalid="true"' in html
    assert db.session.get(Organisation, 1) is None


def test_a_number_that_is_not_one_is_refused_in_the_users_language(client, admin):
    log_in(client, admin)
    russian = {"Accept-Language": "ru"}
    response = submit(
        client, PAGE, {**FILLED, "daily_intake_cap": "много", "postcode": "12"}, headers=russian
    )
    assert response.status_code == 422
    text = page_text(response)
    assert "Укажите целое число, например 180." in text
    assert field_value(response.get_data(as_text=True), "daily_intake_cap") == "много"
    assert "Россия" in response.get_data(as_text=True)  # countries named in Russian too


def test_a_postcode_abroad_is_not_held_to_the_russian_rule(client, admin):
    log_in(client, admin)
    response = submit(client, PAGE, {**FILLED, "country": "GE", "postcode": "0108"})
    assert response.status_code == 302
    assert (stored().country, stored().postcode) == ("GE", "0108")
    refused = submit(client, PAGE, {**FILLED, "country": "XX"})
    assert refused.status_code == 422
    assert stored().country == "GE"


def test_a_past_print_run_date_already_stored_does_not_block_other_changes(app, client, admin):
    with app.app_context():
        organisation = organisation_for_update()
        organisation.next_run_on = TODAY - timedelta(days=3)
        db.session.commit()
    log_in(client, admin)
    page = client.get(PAGE)
    assert field_value(page.get_data(as_text=True), "next_run_on") == str(
        TODAY - timedelta(days=3)
    )
    data = {**FILLED, "next_run_on": (TODAY - timedelta(days=3)).isoformat()}
    assert submit(client, page, data, action=PAGE).status_code == 302
    assert submit(client, PAGE, {**FILLED, "next_run_on": ""}).status_code == 302
    assert stored().next_run_on is None


@pytest.mark.parametrize("role", [Role.ORGANIZER, Role.MAILROOM, Role.TRANSLATOR])
def test_only_admins_may_see_or_change_the_organisation(client, admin, role):
    token_page = client.get("/login")
    anonymous = client.get(PAGE)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    log_in(client, make_user(email=f"{role.value}@example.org", role=role))
    assert client.get(PAGE).status_code == 403
    refused = submit(client, token_page, FILLED, action=PAGE)
    assert refused.status_code == 403
    assert db.session.get(Organisation, 1) is None


# --- flask organisation --------------------------------------------------------------------------


def test_organisation_set_and_show(runner, tmp_path):
    address = tmp_path / "address.txt"
    address.write_text("а/я 12\nг. Москва\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "organisation", "set", "--name", "Письма свободы", "--address-file", str(address),
            "--postcode", "101000", "--country", "ru", "--mailroom", "on",
            "--reply-window-days", "120", "--daily-cap", "80",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "changed" in result.output and "mailroom: open" in result.output
    organisation = stored()
    assert organisation.can_take_letters and organisation.country == "RU"
    assert (organisation.reply_window_days, organisation.daily_intake_cap) == (120, 80)
    (entry,) = organisation_audit()
    assert entry.user_id is None and entry.changes["reply_window_days"] == [180, 120]
    # Only what differs from the defaults is said to have changed (RU was the default).
    assert "country" not in entry.changes and "country" not in result.output.split("\n")[0]

    shown = runner.invoke(args=["organisation", "show"])
    assert shown.exit_code == 0
    assert shown.output.splitlines() == [
        "name: Письма свободы",
        "return address:",
        "  а/я 12",
        "  г. Москва",
        "postcode: 101000",
        "country: RU",
        "mailroom: open",
        "reply window: 120 days",
        "daily intake cap: 80 letters",
        "per-prisoner daily cap: 5 letters",
        "next print run: not planned",
    ]


def test_organisation_set_changes_only_what_it_is_given(runner, tmp_path):
    address = tmp_path / "address.txt"
    address.write_text(ADDRESS, encoding="utf-8")
    runner.invoke(args=["organisation", "set", "--name", "Письма", "--address-file", str(address)])
    next_run = (TODAY + timedelta(days=7)).isoformat()
    result = runner.invoke(
        args=["organisation", "set", "--mailroom", "on", "--next-run-on", next_run]
    )
    assert result.exit_code == 0, result.output
    organisation = stored()
    assert organisation.name == "Письма" and organisation.mailroom_open
    assert organisation.next_run_on == TODAY + timedelta(days=7)
    cleared = runner.invoke(args=["organisation", "set", "--next-run-on", "none"])
    assert cleared.exit_code == 0 and stored().next_run_on is None
    again = runner.invoke(args=["organisation", "set", "--mailroom", "on"])
    assert "organisation: nothing changed" in again.output


def test_organisation_set_refuses_what_the_form_refuses_and_changes_nothing(runner):
    result = runner.invoke(args=["organisation", "set", "--mailroom", "on", "--postcode", "12"])
    assert result.exit_code != 0
    assert "nothing was changed" in result.output
    assert "mailroom_open: The mailroom cannot open without the organisation's name" in (
        result.output
    )
    assert "postcode: A Russian postcode has exactly 6 digits." in result.output
    assert db.session.get(Organisation, 1) is None

    for args, problem in [
        (["--country", "Russia"], "country: Use a two-letter country code"),
        (["--reply-window-days", "3"], "reply_window_days: Give a whole number from 30 to 730."),
        (["--daily-cap", "0"], "daily_intake_cap: Give a whole number from 1 to 10000."),
        (["--next-run-on", "tomorrow"], "use YYYY-MM-DD, or none"),
    ]:
        refused = runner.invoke(args=["organisation", "set", *args])
        assert refused.exit_code != 0, args
        assert problem in refused.output, refused.output
    assert db.session.get(Organisation, 1) is None


def test_organisation_show_before_anything_is_set(runner):
    result = runner.invoke(args=["organisation", "show"])
    assert result.exit_code == 0
    assert "mailroom: closed" in result.output and "reply window: 180 days" in result.output
    assert db.session.get(Organisation, 1) is None


def test_the_audit_trail_shows_who_changed_the_organisation(client, admin):
    log_in(client, admin)
    submit(client, PAGE, {**FILLED, "reply_window_days": "90"})
    trail = page_text(client.get("/manage/audit?entity_type=organisation"))
    assert "admin@example.org" in trail and "The organisation" in trail
    assert "Reply window (days): 180 → 90" in trail
