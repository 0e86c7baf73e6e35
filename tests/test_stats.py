"""The statistics service against hand-computed figures, on SQLite and on PostgreSQL.

The golden data set (see ``golden``) covers every outcome, a transfer while a letter was in
flight, duplicate reports, reports made out of order, a missing and a contradictory date, a
letter too recent for "no news", an appeal and a letter never sent. Every expected figure
below was worked out by hand from that list.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from app.extensions import db
from app.models import (
    Channel,
    EventKind,
    Facility,
    Letter,
    LetterOutcome,
    MailEvent,
    Placement,
    Prisoner,
    TemplateKind,
)
from app.stats import services as stats
from app.stats.services import Dimension, Figures, Scope
from tests.conftest import page_text
from tests.factories import make_facility, make_letter, make_prisoner

AS_OF = date(2026, 6, 30)
POST, REGISTERED, ELECTRONIC = Channel.POST, Channel.REGISTERED, Channel.ELECTRONIC
SENT, ARRIVED, REPLY = EventKind.SENT, EventKind.ARRIVED, EventKind.REPLY
RETURNED, WITHHELD = EventKind.RETURNED, EventKind.WITHHELD


@pytest.fixture
def db_app(any_db_app: Flask) -> Flask:
    """The application on SQLite, then on PostgreSQL."""
    return any_db_app


@dataclass
class Golden:
    a: Facility
    b: Facility
    c: Facility
    p1: Prisoner
    p3: Prisoner
    letters: dict[str, Letter]


def _report(
    letter: Letter, kind: EventKind, on: date, channel: Channel | None = None, *, reported: int
) -> None:
    """Add an event as if reported on day ``reported`` of 2026 (order of reporting)."""
    event = MailEvent(
        letter=letter,  # first: the note is encrypted with the letter's key
        kind=kind,
        happened_on=on,
        channel=channel,
        note="—",
        reported_at=datetime(2026, 1, 1) + timedelta(days=reported),
    )
    db.session.add(event)


@pytest.fixture
def golden(db_app: Flask) -> Golden:
    a = make_facility(code="ИК-1", external_id="a", region="Область А")
    b = make_facility(code="ИК-2", external_id="b", region="Область А")
    c = make_facility(code="ИК-3", external_id="c", region="Край В")
    p1 = make_prisoner(a, since=date(2025, 1, 1))
    p3 = make_prisoner(a, since=date(2025, 1, 1), last_name="Иванов")
    written = date(2026, 1, 1)
    letters = {name: make_letter(p1, written) for name in [f"L{n}" for n in range(1, 15)]}
    letters["L6"].prisoner = p3
    letters["L13"].prisoner = p3
    letters["L13"].facility = c
    L = letters  # noqa: N806 - the names follow the hand computation in the docstring
    _report(L["L1"], SENT, date(2026, 1, 5), POST, reported=5)
    _report(L["L1"], ARRIVED, date(2026, 1, 15), reported=15)  # 10 days
    _report(L["L1"], REPLY, date(2026, 2, 4), reported=35)  # 30 days to reply
    _report(L["L2"], SENT, date(2026, 1, 10), POST, reported=10)
    _report(L["L2"], ARRIVED, date(2026, 1, 22), reported=22)  # 12 days
    # Duplicates: a second "sent" (other channel) and a second "arrived" count for nothing.
    _report(L["L3"], SENT, date(2026, 2, 1), REGISTERED, reported=32)
    _report(L["L3"], SENT, date(2026, 2, 3), POST, reported=34)
    _report(L["L3"], ARRIVED, date(2026, 2, 15), reported=46)  # 14 days
    _report(L["L3"], ARRIVED, date(2026, 2, 20), reported=51)
    _report(L["L4"], SENT, date(2026, 2, 10), POST, reported=41)
    _report(L["L4"], RETURNED, date(2026, 3, 20), reported=79)
    _report(L["L5"], SENT, date(2026, 3, 1), POST, reported=60)
    _report(L["L5"], WITHHELD, date(2026, 4, 1), reported=91)
    # Sent to facility A; the prisoner was moved to C five days later; it arrived all the same.
    _report(L["L6"], SENT, date(2026, 3, 5), POST, reported=64)
    _report(L["L6"], ARRIVED, date(2026, 3, 25), reported=84)  # 20 days, for A
    _report(L["L7"], SENT, date(2026, 3, 15), ELECTRONIC, reported=74)
    _report(L["L7"], ARRIVED, date(2026, 3, 18), reported=77)  # 3 days
    _report(L["L8"], SENT, date(2026, 4, 1), POST, reported=91)  # 90 days of silence
    _report(L["L9"], SENT, date(2026, 5, 15), POST, reported=135)  # 46 days: not yet "no news"
    # Reported backwards: the reply first, the sending last.
    _report(L["L10"], REPLY, date(2026, 4, 30), reported=120)  # 25 days to reply
    _report(L["L10"], ARRIVED, date(2026, 4, 20), reported=121)  # 15 days
    _report(L["L10"], SENT, date(2026, 4, 5), POST, reported=122)
    # Contradictory: arrived before it was sent. Counts as delivered, not for delays.
    _report(L["L11"], SENT, date(2026, 5, 10), POST, reported=130)
    _report(L["L11"], ARRIVED, date(2026, 5, 1), reported=131)
    # Missing: only the arrival was reported.
    _report(L["L12"], ARRIVED, date(2026, 5, 20), reported=140)
    _report(L["L13"], SENT, date(2026, 3, 20), POST, reported=79)
    _report(L["L13"], ARRIVED, date(2026, 4, 10), reported=100)  # 21 days, for C
    # L14 was never sent. An appeal to facility A's head must not count at all.
    appeal = make_letter(p1, written, kind=TemplateKind.APPEAL)
    _report(appeal, SENT, date(2026, 1, 5), POST, reported=5)
    _report(appeal, ARRIVED, date(2026, 1, 7), reported=7)
    db.session.commit()
    # The transfer of p3 from A to C, recorded after the fact.
    p3.placements[0].ended_on = date(2026, 3, 10)
    p3.placements.append(Placement(facility=c, started_on=date(2026, 3, 10)))
    db.session.commit()
    return Golden(a, b, c, p1, p3, letters)


def test_facility_figures_match_the_hand_computation(golden: Golden) -> None:
    assert stats.facility_figures(golden.a.id, AS_OF) == Figures(
        letters_sent=12,  # L1–L12: L12 was evidently sent though nobody said when
        delivered=8,  # L1 L2 L3 L6 L7 L10 L11 L12
        answered=2,  # L1 L10
        returned=1,
        withheld=1,
        no_news=1,  # L8; L9 is only 46 days old
        withheld_or_returned=2,
        dates_excluded=2,  # L11 contradictory, L12 missing
        delivery_sample=6,  # 3 10 12 14 15 20
        reply_sample=2,  # 25 30
        median_days_to_delivery=13.0,
        p75_days_to_delivery=14.75,
        p90_days_to_delivery=17.5,
        median_days_to_reply=None,  # two reports are not enough
        p90_days_to_reply=None,
        withheld_or_returned_share=round(2 / 12, 4),
    )


def test_a_letter_counts_for_the_facility_it_was_sent_to(golden: Golden) -> None:
    c = stats.facility_figures(golden.c.id, AS_OF)
    assert (c.letters_sent, c.delivered, c.delivery_sample) == (1, 1, 1)
    assert c.median_days_to_delivery is None  # one report: "not enough reports"
    assert stats.facility_figures(golden.b.id, AS_OF) == Figures()
    p3 = stats.prisoner_figures(golden.p3.id, AS_OF)
    assert (p3.letters_sent, p3.delivered) == (2, 2)


def test_figures_by_region_channel_and_month(golden: Golden) -> None:
    regions = stats.figures_by(Dimension.REGION, as_of=AS_OF)
    assert set(regions) == {"Область А", "Край В"}
    assert regions["Область А"] == stats.facility_figures(golden.a.id, AS_OF)
    assert regions["Край В"].letters_sent == 1

    channels = stats.figures_by(Dimension.CHANNEL, Scope(facility_id=golden.a.id), AS_OF)
    # L3's channel is the one of its first "sent" report; L12 has no channel at all.
    assert {str(key): value.letters_sent for key, value in channels.items()} == {
        "post": 9,
        "registered": 1,
        "electronic": 1,
    }
    post = channels[POST]
    assert (post.delivery_sample, post.median_days_to_delivery) == (4, None)
    assert (post.returned, post.withheld, post.no_news) == (1, 1, 1)

    months = stats.figures_by(Dimension.MONTH, as_of=AS_OF)
    assert {key: value.letters_sent for key, value in months.items()} == {
        "2026-01": 2,
        "2026-02": 2,
        "2026-03": 4,  # L5 L6 L7 and L13 (facility C)
        "2026-04": 2,
        "2026-05": 2,
    }
    only_march = stats.figures(Scope(month="2026-03", region="Область А"), AS_OF)
    assert (only_march.letters_sent, only_march.delivery_sample) == (3, 2)


def test_no_news_depends_on_the_day_of_counting(golden: Golden) -> None:
    assert stats.facility_figures(golden.a.id, date(2026, 5, 30)).no_news == 0  # L8 at 59 days
    assert stats.facility_figures(golden.a.id, date(2026, 5, 31)).no_news == 1
    assert stats.facility_figures(golden.a.id, date(2026, 7, 14)).no_news == 2  # and L9


def test_outcomes_follow_new_corrected_and_deleted_reports(golden: Golden) -> None:
    letter = golden.letters["L9"]
    _report(letter, ARRIVED, date(2026, 5, 27), reported=150)
    db.session.commit()
    after = stats.facility_figures(golden.a.id, AS_OF)
    assert (after.delivered, after.delivery_sample) == (9, 7)
    assert after.median_days_to_delivery == 12.0  # 3 10 12 12 14 15 20

    wrong = golden.letters["L11"].events[0]  # the arrival dated before the sending
    assert wrong.kind is ARRIVED
    db.session.delete(wrong)
    db.session.commit()
    fixed = stats.facility_figures(golden.a.id, AS_OF)
    assert (fixed.delivered, fixed.dates_excluded) == (8, 1)

    golden.letters["L1"].facility = golden.c
    db.session.commit()
    assert stats.facility_figures(golden.c.id, AS_OF).letters_sent == 2


def test_outcome_rows_match_a_full_rebuild(golden: Golden) -> None:
    from app.stats.outcomes import rebuild_all_outcomes

    def rows() -> list[tuple[object, ...]]:
        return [
            tuple(getattr(row, column.name) for column in LetterOutcome.__table__.columns)
            for row in db.session.scalars(
                db.select(LetterOutcome).order_by(LetterOutcome.letter_id)
            )
        ]

    incremental = rows()
    assert len(incremental) == 13  # L1–L13; neither the unsent letter nor the appeal
    assert rebuild_all_outcomes(db.session.connection()) == 13
    db.session.commit()
    db.session.expire_all()
    assert rows() == incremental


def test_percentiles_match_python_on_random_data(db_app: Flask) -> None:
    """The SQL percentiles interpolate exactly like statistics.quantiles (inclusive)."""
    generator = random.Random(20261123)
    facility = make_facility()
    prisoner = make_prisoner(facility, since=date(2024, 1, 1))
    delays: list[int] = []
    for count in range(37):
        letter = make_letter(prisoner, date(2025, 1, 1))
        sent_on = date(2025, 1, 2) + timedelta(days=count)
        delay = int(generator.lognormvariate(2.6, 0.6))
        delays.append(delay)
        _report(letter, SENT, sent_on, POST, reported=1)
        _report(letter, ARRIVED, sent_on + timedelta(days=delay), reported=2)
    db.session.commit()
    result = stats.facility_figures(facility.id, date(2026, 1, 1))
    cuts = statistics.quantiles(delays, n=100, method="inclusive")
    assert result.delivery_sample == 37
    assert result.median_days_to_delivery == pytest.approx(statistics.median(delays))
    assert result.p75_days_to_delivery == pytest.approx(cuts[74])
    assert result.p90_days_to_delivery == pytest.approx(cuts[89])


def test_fewer_than_five_reports_give_no_median(db_app: Flask) -> None:
    facility = make_facility()
    prisoner = make_prisoner(facility, since=date(2024, 1, 1))
    for count in range(5):
        letter = make_letter(prisoner, date(2025, 1, 1))
        _report(letter, SENT, date(2025, 2, 1), POST, reported=1)
        _report(letter, ARRIVED, date(2025, 2, 11 + count), reported=2)
        db.session.commit()
        result = stats.facility_figures(facility.id, date(2026, 1, 1))
        if count < 4:
            assert result.median_days_to_delivery is None
    assert result.median_days_to_delivery == 12.0


def test_pages_overview_and_export_on_both_databases(db_app: Flask, golden: Golden) -> None:
    import csv
    import io

    from app.stats.export import csv_chunks
    from app.stats.overview import compute_overview

    payload = compute_overview(AS_OF)
    by_code = {row["code"]: Figures.from_dict(row["figures"]) for row in payload["facilities"]}
    assert by_code == {
        "ИК-1": stats.facility_figures(golden.a.id, AS_OF),
        "ИК-3": stats.facility_figures(golden.c.id, AS_OF),
    }
    assert [row["month"] for row in payload["months"]] == [f"2026-0{n}" for n in range(1, 6)]
    rows = list(csv.DictReader(io.StringIO("".join(csv_chunks(AS_OF)))))
    assert len(rows) == 13
    outcomes = [row["outcome"] for row in rows if row["facility_code"] == "ИК-1"]
    # L1 L10 answered; L2 L3 L6 L7 L11 L12 delivered; L4 returned; L5 withheld; L8 no news.
    assert {name: outcomes.count(name) for name in set(outcomes)} == {
        "answered": 2,
        "delivered": 6,
        "returned": 1,
        "withheld": 1,
        "no_news": 1,
        "sent": 1,
    }
    client = db_app.test_client()
    for url, shown in [
        ("/stats", "Where letters get stuck"),
        (f"/facilities/{golden.a.id}", "How mail to this facility fared"),
        (f"/prisoners/{golden.p3.id}", "Иванов Алексей Александрович"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert shown in page_text(response), url

    assert client.get(f"/api/v1/stats/facilities/{golden.a.id}").get_json()["letters_sent"] == 12


def test_flask_stats_rebuild_recounts_everything(db_app: Flask, golden: Golden) -> None:
    from app.stats import snapshots

    assert stats.precompute_facility_figures(AS_OF) == 3
    assert stats.facility_figures(golden.c.id, AS_OF).letters_sent == 1
    db.session.execute(db.delete(LetterOutcome))  # behind the statistics' back
    db.session.commit()
    assert stats.facility_figures(golden.c.id, AS_OF).letters_sent == 1  # still the stored
    result = db_app.test_cli_runner().invoke(args=["stats", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "13 letters counted, overview and 3 facilities recomputed" in result.output
    # The figures are stored for today before any page asks for them.
    stored = snapshots.read(snapshots.facility_key(golden.a.id))
    assert stored is not None and stored.payload["as_of"] == date.today().isoformat()
    assert stored.payload["total"]["letters_sent"] == 12
    assert stats.facility_figures(golden.a.id, AS_OF).letters_sent == 12
    assert db.session.scalar(db.select(db.func.count()).select_from(LetterOutcome)) == 13


def test_figures_from_an_uncommitted_report_are_not_stored(db_app: Flask, golden: Golden) -> None:
    from app.stats import snapshots
    from app.stats.services import _compute_breakdown_payload

    key = snapshots.facility_key(golden.a.id)
    letter = golden.letters["L9"]
    _report(letter, ARRIVED, date(2026, 5, 27), reported=150)
    db.session.flush()  # the outcome row changes inside the open transaction
    assert stats.facility_figures(golden.a.id, AS_OF).delivered == 9
    counted = _compute_breakdown_payload(golden.a.id, AS_OF)
    assert snapshots.store(key, counted).payload["total"]["delivered"] == 9
    assert snapshots.read(key) is None  # they could still be rolled back
    db.session.rollback()
    assert stats.facility_figures(golden.a.id, AS_OF).delivered == 8  # the report never was
    assert snapshots.read(key) is None  # a page counts, and never stores
    assert stats.precompute_facility_figures(AS_OF) == 3
    assert snapshots.read(key).payload["total"]["delivered"] == 8


def test_only_changed_outcomes_forget_stored_figures(db_app: Flask, golden: Golden) -> None:
    from app.stats import snapshots

    stats.precompute_facility_figures(AS_OF)
    make_letter(golden.p1)  # a new letter, not sent: no outcome, nothing to forget
    golden.letters["L2"].printed_at = datetime(2026, 6, 1)  # printed again: same outcome
    db.session.commit()
    assert not snapshots.read(snapshots.facility_key(golden.a.id)).stale
    assert not snapshots.read(snapshots.facility_key(golden.c.id)).stale
    _report(golden.letters["L13"], REPLY, date(2026, 5, 1), reported=170)  # facility C's
    db.session.commit()
    assert not snapshots.read(snapshots.facility_key(golden.a.id)).stale
    assert snapshots.read(snapshots.facility_key(golden.c.id)).stale
    assert stats.facility_figures(golden.c.id, AS_OF).answered == 1  # counted again, not stored
    assert snapshots.read(snapshots.facility_key(golden.c.id)).stale


def test_the_background_job_stores_the_figures_before_anyone_asks(
    db_app: Flask, golden: Golden
) -> None:
    from app.jobs import bind_queue
    from app.stats import snapshots
    from app.stats.tasks import precompute_facility_figures as every_minute

    def stored(facility: Facility) -> dict[str, Any] | None:
        found = snapshots.read(snapshots.facility_key(facility.id))
        return found.payload if found else None

    assert stats.precompute_facility_figures(AS_OF) == 3
    for facility in (golden.a, golden.b, golden.c):
        assert stored(facility)["as_of"] == AS_OF.isoformat()
    assert stored(golden.a)["total"]["letters_sent"] == 12
    assert stored(golden.a)["total"]["delivered"] == 8
    assert stats.precompute_facility_figures(AS_OF) == 0  # all up to date: nothing computed

    _report(golden.letters["L13"], REPLY, date(2026, 5, 1), reported=170)  # facility C's
    db.session.commit()
    assert snapshots.read(snapshots.facility_key(golden.c.id)).stale
    assert stats.precompute_facility_figures(AS_OF) == 1  # only the facility that changed
    assert not snapshots.read(snapshots.facility_key(golden.c.id)).stale
    assert stored(golden.c)["total"]["answered"] == 1
    assert stats.facility_figures(golden.c.id, AS_OF).answered == 1  # what the page shows

    bind_queue(db_app)  # its lock in this app's queue, not in a queue of the environment's
    every_minute.call_local()  # what the consumer runs every minute: today's figures for all
    for facility in (golden.a, golden.b, golden.c):
        assert stored(facility)["as_of"] == date.today().isoformat()


def _stored_then_marked_by_a_reply(golden: Golden) -> str:
    """Store every facility's figures, then report a reply to facility C; C's snapshot key."""
    from app.stats import snapshots

    stats.precompute_facility_figures(AS_OF)
    _report(golden.letters["L13"], REPLY, date(2026, 5, 1), reported=170)  # C: 1 answered
    db.session.commit()
    return snapshots.facility_key(golden.c.id)


def test_figures_a_report_overtakes_while_they_are_computed_are_not_stored(
    db_app: Flask, golden: Golden
) -> None:
    """The background job's steps one by one, with a report committed in between."""
    from app.stats import snapshots
    from app.stats.services import _compute_breakdown_payload

    key = _stored_then_marked_by_a_reply(golden)

    # A job claims the marked row and counts; before it stores, a second report comes in.
    first = snapshots.claim_stale(key, snapshots.read(key))
    assert first is not None
    db.session.rollback()
    counted_first = _compute_breakdown_payload(golden.c.id, AS_OF)
    assert counted_first["total"]["answered"] == 1 and counted_first["total"]["returned"] == 0
    late = make_letter(golden.p3, date(2026, 4, 1))
    late.facility = golden.c
    _report(late, SENT, date(2026, 4, 2), POST, reported=171)
    _report(late, RETURNED, date(2026, 5, 2), reported=172)
    db.session.commit()
    assert snapshots.read(key).stale
    assert stats.facility_figures(golden.c.id, AS_OF).returned == 1  # the page counts it

    # A second job (another consumer) claims the row again and counts both reports.
    second = snapshots.claim_stale(key, snapshots.read(key))
    assert second is not None
    db.session.rollback()
    counted_second = _compute_breakdown_payload(golden.c.id, AS_OF)
    # The first job stores last but gives way: its claim is no longer the row's.
    snapshots.store_if_unchanged(key, counted_second, second)
    snapshots.store_if_unchanged(key, counted_first, first)
    stored = snapshots.read(key)
    assert not stored.stale
    assert stored.payload["total"]["answered"] == 1
    assert stored.payload["total"]["returned"] == 1

    # Without a second job: figures counted before a report give way to its mark, and the
    # next run stores them with the report.
    _report(late, REPLY, date(2026, 5, 20), reported=173)  # C: 2 answered
    db.session.commit()
    claimed = snapshots.claim_stale(key, snapshots.read(key))
    db.session.rollback()
    counted = _compute_breakdown_payload(golden.c.id, AS_OF)
    withheld = make_letter(golden.p3, date(2026, 4, 10))
    withheld.facility = golden.c
    _report(withheld, SENT, date(2026, 4, 11), POST, reported=174)
    _report(withheld, WITHHELD, date(2026, 5, 11), reported=175)
    db.session.commit()
    snapshots.store_if_unchanged(key, counted, claimed)
    assert snapshots.read(key).stale
    assert stats.precompute_facility_figures(AS_OF) == 1
    stored = snapshots.read(key)
    assert not stored.stale
    assert stored.payload["total"]["answered"] == 2
    assert stored.payload["total"]["withheld"] == 1
    assert stored.payload["total"]["letters_sent"] == 3


def test_figures_claimed_by_a_worker_that_died_are_counted_again(
    db_app: Flask, golden: Golden
) -> None:
    from app.stats import snapshots

    key = _stored_then_marked_by_a_reply(golden)
    assert snapshots.claim_stale(key, snapshots.read(key)) is not None
    db.session.rollback()
    # The worker is killed here, before it stores: the row is no longer marked, yet no page
    # shows the figures from before the report.
    assert not snapshots.read(key).stale
    assert stats.facility_figures(golden.c.id, AS_OF).answered == 1  # counted on the spot
    assert "total" not in snapshots.read(key).payload  # pages never store
    assert stats.precompute_facility_figures(AS_OF) == 1  # the next run counts C again
    assert snapshots.read(key).payload["total"]["answered"] == 1
    assert stats.precompute_facility_figures(AS_OF) == 0
