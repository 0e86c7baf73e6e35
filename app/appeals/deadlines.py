"""The deadlines of Federal Law 59-FZ for a written appeal, in calendar days.

Art. 8(3): an appeal is registered within 3 days of its receipt. Art. 12(1): it is answered
within 30 days of registration. Art. 12(2): the term may be extended once, by up to 30 days,
with notice to the applicant. The law counts calendar days; Konvert takes the latest date the
law allows for each step (registration on the third day), so "overdue" is never premature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

REGISTRATION_DAYS = 3
ANSWER_DAYS = 30
MAX_EXTENSION_DAYS = 30


@dataclass(frozen=True)
class AppealDeadlines:
    """When an appeal was received, and when registration and the answer are due."""

    sent_on: date
    received_on: date
    receipt_estimated: bool
    registration_due: date
    answer_due: date
    extension_days: int
    closed_on: date | None

    @property
    def closed(self) -> bool:
        """An answer, a refusal or a return ends the wait."""
        return self.closed_on is not None

    def is_overdue(self, today: date) -> bool:
        """True when no answer came and the last day for it has passed."""
        return not self.closed and today > self.answer_due

    def days_overdue(self, today: date) -> int:
        """Whole days since the answer was due (0 when not overdue)."""
        return (today - self.answer_due).days if self.is_overdue(today) else 0


def appeal_deadlines(
    *,
    sent_on: date,
    arrived_on: date | None,
    assumed_delivery_days: int,
    extension_days: int = 0,
    closed_on: date | None = None,
) -> AppealDeadlines:
    """Compute the deadlines; without a reported arrival, receipt is estimated from sending."""
    if not 0 <= extension_days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_DAYS} days, not {extension_days}")
    received_on = arrived_on or sent_on + timedelta(days=assumed_delivery_days)
    registration_due = received_on + timedelta(days=REGISTRATION_DAYS)
    answer_due = registration_due + timedelta(days=ANSWER_DAYS + extension_days)
    return AppealDeadlines(
        sent_on=sent_on,
        received_on=received_on,
        receipt_estimated=arrived_on is None,
        registration_due=registration_due,
        answer_due=answer_due,
        extension_days=extension_days,
        closed_on=closed_on,
    )
