"""The mailroom's foundations: reference codes, the organisation's settings, API tokens."""

from __future__ import annotations

import itertools

import pytest
from flask import Flask

from app.auth.api_tokens import (
    active_tokens,
    create_api_token,
    revoke_api_token,
    user_for_token,
)
from app.extensions import db
from app.mailroom.organisation import current_organisation, organisation_for_update
from app.mailroom.reference import (
    damm_check_digit,
    format_reference,
    is_valid_reference,
    new_reference,
    parse_reference,
)
from app.models import ApiToken, Organisation, Role, User
from tests.factories import make_user


def test_damm_check_digit_matches_the_published_example() -> None:
    # Wikipedia's worked example: the check digit of 572 is 4.
    assert damm_check_digit("572") == 4
    assert damm_check_digit("5724") == 0
    assert is_valid_reference("57240000")  # zeros after a valid code keep it valid…
    assert not is_valid_reference("57250000")  # …but one wrong digit does not


def test_new_references_are_valid_and_printed_in_two_groups() -> None:
    for _ in range(200):
        reference = new_reference()
        assert is_valid_reference(reference)
        assert reference[0] != "0"
        shown = format_reference(reference)
        assert shown[4] == "-" and shown.replace("-", "") == reference


def test_every_single_digit_typo_and_adjacent_swap_is_caught() -> None:
    reference = new_reference()
    for position, digit in itertools.product(range(8), "0123456789"):
        if reference[position] != digit:
            typo = reference[:position] + digit + reference[position + 1 :]
            assert not is_valid_reference(typo)
    for position in range(7):
        swapped = (
            reference[:position]
            + reference[position + 1]
            + reference[position]
            + reference[position + 2 :]
        )
        if swapped != reference:
            assert not is_valid_reference(swapped)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("4821-0937", "48210937"),
        (" 4821 0937 ", "48210937"),
        ("4821–0937", "48210937"),  # an en dash, as word processors make it
        ("٤٨٢١-٠٩٣٧", "48210937"),  # Arabic-Indic digits
        ("4821-093", None),
        ("4821-09370", None),
        ("48A1-0937", None),
        ("", None),
    ],
)
def test_typed_references_are_read_whatever_the_separators(typed: str, digits: str | None) -> None:
    assert parse_reference(typed) == digits


def test_the_organisation_has_closed_defaults_until_an_admin_sets_it(app: Flask) -> None:
    organisation = current_organisation()
    assert organisation.mailroom_open is False
    assert organisation.reply_window_days == 180
    assert organisation.can_take_letters is False
    assert db.session.get(Organisation, 1) is None  # reading created nothing

    with app.app_context():
        row = organisation_for_update()
        row.name = "Письма свободы"
        row.return_address = "а/я 12\nг. Москва"
        row.postcode = "101000"
        row.mailroom_open = True
        db.session.commit()

    with app.app_context():
        organisation = current_organisation()
        assert organisation.can_take_letters
        assert organisation.return_lines == ["а/я 12", "г. Москва"]


def test_an_api_token_is_shown_once_kept_hashed_and_revocable(app: Flask) -> None:
    user = make_user(email="scan@example.org", role=Role.MAILROOM)
    with app.app_context():
        token, raw = create_api_token(db.session.get(User, user.id), "scanner")  # type: ignore[arg-type]
        db.session.commit()
        token_id = token.id
    stored = db.session.get(ApiToken, token_id)
    assert stored is not None and raw not in stored.token_hash and stored.token_hash != raw

    with app.app_context():
        assert user_for_token(raw, record_use=True) is not None
        assert user_for_token(raw + "x", record_use=True) is None
        assert user_for_token("kvt_" + "A" * 43, record_use=True) is None
        db.session.commit()
    with app.app_context():
        owner = db.session.get(User, user.id)
        assert owner is not None and [t.label for t in active_tokens(owner)] == ["scanner"]
        assert revoke_api_token(owner, token_id)
        db.session.commit()
    with app.app_context():
        assert user_for_token(raw, record_use=True) is None


def test_translators_get_api_tokens_for_the_desk(app: Flask) -> None:
    translator = make_user(email="tr@example.org", role=Role.TRANSLATOR)
    _token, raw = create_api_token(translator, "desk")
    db.session.commit()
    assert user_for_token(raw, record_use=False) == translator
