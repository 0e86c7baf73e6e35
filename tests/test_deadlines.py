"""59-FZ deadline arithmetic: calendar days across month and year ends."""

from __future__ import annotations

from datetime import date

import pytest

from app.appeals.deadlines import appeal_deadlines


@pytest.mark.parametrize(
    ("sent", "arrived", "registration", "answer"),
    [
        (date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 15), date(2026, 2, 14)),
        # Across the end of a 31-day month into February of a common year.
        (date(2026, 1, 20), date(2026, 1, 29), date(2026, 2, 1), date(2026, 3, 3)),
        # Across the year end.
        (date(2026, 12, 20), date(2026, 12, 30), date(2027, 1, 2), date(2027, 2, 1)),
        # February of a leap year.
        (date(2028, 2, 1), date(2028, 2, 10), date(2028, 2, 13), date(2028, 3, 14)),
    ],
)
def test_registration_three_days_after_receipt_answer_thirty_after_registration(
    sent, arrived, registration, answer
):
    terms = appeal_deadlines(sent_on=sent, arrived_on=arrived, assumed_delivery_days=7)
    assert terms.received_on == arrived and not terms.receipt_estimated
    assert terms.registration_due == registration
    assert terms.answer_due == answer


def test_receipt_is_estimated_when_arrival_was_not_reported():
    terms = appeal_deadlines(sent_on=date(2026, 12, 28), arrived_on=None, assumed_delivery_days=7)
    assert terms.receipt_estimated
    assert terms.received_on == date(2027, 1, 4)
    assert terms.registration_due == date(2027, 1, 7)
    assert terms.answer_due == date(2027, 2, 6)


def test_extension_adds_up_to_thirty_days():
    base = {
        "sent_on": date(2026, 3, 1),
        "arrived_on": date(2026, 3, 5),
        "assumed_delivery_days": 7,
    }
    assert appeal_deadlines(**base, extension_days=30).answer_due == date(2026, 5, 7)
    with pytest.raises(ValueError):
        appeal_deadlines(**base, extension_days=31)


def test_overdue_only_after_the_last_day_and_never_once_answered():
    terms = appeal_deadlines(
        sent_on=date(2026, 1, 5), arrived_on=date(2026, 1, 12), assumed_delivery_days=7
    )
    assert not terms.is_overdue(date(2026, 2, 14))  # the last day itself is still in time
    assert terms.is_overdue(date(2026, 2, 15))
    assert terms.days_overdue(date(2026, 2, 20)) == 6
    answered = appeal_deadlines(
        sent_on=date(2026, 1, 5), arrived_on=date(2026, 1, 12), assumed_delivery_days=7,
        closed_on=date(2026, 3, 1),
    )  # fmt: skip
    assert not answered.is_overdue(date(2026, 4, 1))
