"""Mail jobs: delivering the outbox, the daily reminders to report back, the weekly digest,
and forgetting what mail no longer needs (unconfirmed addresses, long-dead messages).

A commit that adds (or re-queues) outbox messages enqueues `deliver_outbox` right after it
commits (see `app.mail.hooks`), so mail goes out within moments; the same task also runs
every minute and picks up anything a failed enqueue or a crash left behind.
"""

from __future__ import annotations

from datetime import date

from huey import crontab

from app import edge
from app.jobs import enqueue, huey, log, task_app
from app.mail.confirmation import purge_unconfirmed
from app.mail.delivery import deliver_due, prune_dead
from app.mail.digest import send_weekly_digest as queue_digest
from app.mail.services import send_due_reminders
from app.models.base import utcnow


@huey.task()
def deliver_outbox() -> None:
    """Send every due outbox message (see app.mail.delivery.deliver_due)."""
    with edge.job(task_app()):
        report = deliver_due()
        if report.sent or report.retrying or report.dead:
            log.info(
                "outbox: %s sent, %s to retry, %s dead", report.sent, report.retrying, report.dead
            )


@huey.periodic_task(crontab())  # every minute: retries, and anything an enqueue missed
def deliver_outbox_periodically() -> None:
    """Run the delivery every minute."""
    deliver_outbox.call_local()


@huey.periodic_task(crontab(minute="41"))
def forget_expired_mail() -> None:
    """Hourly: delete addresses nobody confirmed in OPTIN_CONFIRM_HOURS (with their mail), and
    blank the content of messages dead for OUTBOX_DEAD_KEEP_DAYS."""
    with edge.job(task_app()):
        now = utcnow()
        addresses = purge_unconfirmed(now)
        messages = prune_dead(now)
    if addresses or messages:
        log.info(
            "mail: %s unconfirmed addresses deleted, %s dead messages pruned", addresses, messages
        )


@huey.periodic_task(crontab(minute="17", hour="8"))
def send_reminders() -> None:
    """Daily: queue the reminders to report back that are due (each at most once)."""
    with edge.job(task_app()):
        queued = send_due_reminders(date.today())
    log.info("reminders: %s queued", queued)


@huey.periodic_task(crontab(minute="0", hour="7", day_of_week="1"))
def send_weekly_digest() -> None:
    """Mondays: the past week in numbers, to every active organizer and admin.

    Once per ISO week even when several consumers run the schedule: the first to store the
    week's key in the shared queue storage sends it, the others find the key taken.
    """
    with edge.job(task_app()):
        now = utcnow()
        year, week, _day = now.isocalendar()
        if not huey.put_if_empty(f"digest:{year}-W{week:02d}", "sent"):
            log.info("digest: already sent this week")
            return
        queued = queue_digest(now)
    log.info("digest: %s queued", queued)


def enqueue_delivery() -> None:
    """Ask the consumer to deliver now (in immediate mode: deliver now, here).

    A failure to enqueue (Redis down) is logged: the message is safe in the outbox and the
    every-minute run will send it.
    """
    enqueue(deliver_outbox)
