"""Pre-aggregated outcomes: one row per letter to a prisoner, derived from its mail events."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import enum_column, utcnow
from app.models.letter import Channel


class DateProblem(enum.StrEnum):
    """Why a letter's dates cannot be used for delays."""

    MISSING = "missing"  # outcomes were reported but not when the letter was sent
    CONTRADICTORY = "contradictory"  # e.g. it arrived before it was sent


class LetterOutcome(Model):
    """What happened to one letter, as the statistics read it.

    Rows are rebuilt in SQL from ``mail_event`` whenever a letter's events change (see
    ``app.stats.outcomes``); they are never edited by hand. Keeping one row per letter lets the
    statistics group and rank without reading every event on every page view.
    """

    __tablename__ = "letter_outcome"
    __table_args__ = (
        Index("ix_letter_outcome_facility_sent", "facility_id", "sent_on"),
        Index("ix_letter_outcome_month", "sent_month"),
    )

    letter_id: Mapped[int] = mapped_column(
        ForeignKey("letter.id", ondelete="CASCADE"), primary_key=True
    )
    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoner.id", ondelete="CASCADE"), index=True
    )
    # The facility the letter was addressed to when it was sent, not the prisoner's current one.
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"))
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel))
    sent_on: Mapped[date | None]
    sent_month: Mapped[str | None] = mapped_column(String(7))  # "2026-11"
    delivered_on: Mapped[date | None]
    replied_on: Mapped[date | None]
    returned_on: Mapped[date | None]
    withheld_on: Mapped[date | None]
    days_to_delivery: Mapped[int | None]
    days_to_reply: Mapped[int | None]
    date_problem: Mapped[DateProblem | None] = mapped_column(enum_column(DateProblem))


class StatsSnapshot(Model):
    """Figures computed once and served many times: "overview" (/stats) or "facility:<id>".

    A change to a letter's outcome deletes the snapshots of its facilities and marks the
    overview stale, in the same transaction; the overview is then recomputed in the
    background while the stale one is served. Each payload carries the day it was counted
    for ("as_of"), because "no news after 60 days" depends on the date.
    """

    __tablename__ = "stats_snapshot"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    stale: Mapped[bool] = mapped_column(default=False, server_default=sa_false())


class RecentLetterCount(Model):
    """Letters written to each prisoner in the last 90 days, for the prisoner list's order.

    Counted once a day in SQL and kept current as letters are written (``app.directory.recent``);
    without it every list page would count half a million letters.
    """

    __tablename__ = "recent_letter_count"

    prisoner_id: Mapped[int] = mapped_column(
        ForeignKey("prisoner.id", ondelete="CASCADE"), primary_key=True
    )
    letters: Mapped[int]
