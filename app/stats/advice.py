"""Advice for writers drawn from the statistics: how long letters take, and when to send."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, timedelta

from app.models import Prisoner
from app.stats.services import Figures, facility_figures

# When a facility has too few reports: about what letters to Russian colonies take by post.
DEFAULT_DELIVERY_DAYS = 30


class Occasion(enum.StrEnum):
    """Days worth a letter that arrives on time."""

    BIRTHDAY = "birthday"
    NEW_YEAR = "new_year"


@dataclass(frozen=True)
class SendBy:
    """Send by ``send_by`` for the letter to arrive by ``day`` in three cases out of four."""

    occasion: Occasion
    day: date
    send_by: date
    days: int
    from_reports: bool  # False: the default, because the facility has too few reports
    passed: bool  # the day to send by is already behind us: it will probably arrive late


def next_birthday(birth_date: date, today: date) -> date:
    """The next birthday on or after today; 29 February falls on 1 March in common years."""
    for year in (today.year, today.year + 1):
        try:
            day = birth_date.replace(year=year)
        except ValueError:
            day = date(year, 3, 1)
        if day >= today:
            return day
    raise AssertionError("unreachable: next year's birthday is always ahead")


def next_new_year(today: date) -> date:
    """The next 1 January after today (on 1 January itself, the one a year later)."""
    return date(today.year + 1, 1, 1)


def days_to_allow(facility_figures: Figures | None) -> tuple[int, bool]:
    """Days to allow for a letter to arrive: the 75th percentile of reports, or the default."""
    if facility_figures is not None and facility_figures.p75_days_to_delivery is not None:
        return math.ceil(facility_figures.p75_days_to_delivery), True
    return DEFAULT_DELIVERY_DAYS, False


def send_by_dates(
    facility_figures: Figures | None, birth_date: date | None, today: date
) -> list[SendBy]:
    """When to send for the next birthday (if known) and the next New Year, soonest first."""
    days, from_reports = days_to_allow(facility_figures)
    occasions = [(Occasion.NEW_YEAR, next_new_year(today))]
    if birth_date is not None:
        occasions.append((Occasion.BIRTHDAY, next_birthday(birth_date, today)))
    return sorted(
        (
            SendBy(
                occasion=occasion,
                day=day,
                send_by=day - timedelta(days=days),
                days=days,
                from_reports=from_reports,
                passed=day - timedelta(days=days) < today,
            )
            for occasion, day in occasions
        ),
        key=lambda item: item.day,
    )


@dataclass(frozen=True)
class DeliveryAdvice:
    """What the prisoner page tells a writer about the post to the prisoner's facility."""

    facility_figures: Figures
    typical_days: float | None  # the median delay; None with too few reports
    sample: int
    send_by: list[SendBy]


def facility_advice(prisoner: Prisoner, today: date) -> DeliveryAdvice | None:
    """Typical delay to the prisoner's current facility and the dates to send by; None while
    the prisoner is in transit or has no known facility."""
    facility = prisoner.current_facility
    if facility is None:
        return None
    found = facility_figures(facility.id, today)
    return DeliveryAdvice(
        facility_figures=found,
        typical_days=found.median_days_to_delivery,
        sample=found.delivery_sample,
        send_by=send_by_dates(found, prisoner.birth_date, today),
    )
