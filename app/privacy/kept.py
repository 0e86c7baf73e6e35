"""What Konvert keeps: the facts of the `/privacy` page, built from the settings that enforce
them.

Every number on the page (how long an address waits for its confirmation, when a print pack
is deleted, how long a login link works…) is read here from the app's configuration or from
the constant the enforcing code uses, never written into the template: change a setting and
the page says so. `what_konvert_keeps` is called per request, in the reader's language.

A few facts are enforced by the letter encryption of issue 15 (`app.privacy.crypto`, the
letter model) rather than by a setting; their values are named below (`SUPPORTER_TIME_UNIT`,
`LETTER_CIPHER`) so that the page and the code can share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from babel.lists import format_list
from flask_babel import get_locale, gettext, ngettext
from limits import parse_many

from app.backup.keys import SECRET_KEY_FILE
from app.i18n import LANGUAGE_COOKIE_SECONDS
from app.imports.uploads import MAX_AGE as IMPORT_UPLOAD_MAX_AGE
from app.logredact import REDACTED
from app.mailroom.incoming import HOLD_DAYS
from app.mailroom.organisation import current_organisation
from app.models.base import kept_time
from app.privacy.master_key import MASTER_KEY_FILE
from app.stats.export import COLUMNS as OPEN_DATA_COLUMNS
from app.stats.services import NO_NEWS_AFTER_DAYS

# --- Facts enforced by the letter encryption (issue 15) -------------------------------------
#: How a letter's content is encrypted with the key derived from its link (app/privacy/crypto.py).
LETTER_CIPHER = "HKDF-SHA256 + AES-256-GCM"

# Rate limits keyed by a hash of the network address, and by a hash of an email address.
ADDRESS_LIMITS = ("RATELIMIT_PUBLIC_WRITES", "RATELIMIT_PDF", "RATELIMIT_CHECKS")
EMAIL_LIMITS = ("RATELIMIT_OPTIN_ADDRESS",)
_DAY = 24 * 3600


@dataclass(frozen=True)
class Kept:
    """One thing Konvert stores: what it is, how it is kept, how long, who can read it, and
    the settings (``KONVERT_…``) or code that decide it."""

    key: str
    thing: str
    what: str
    how: str
    how_long: str
    who: str
    set_by: tuple[str, ...] = field(default_factory=tuple)


def duration(span: timedelta) -> str:
    """A span in the largest whole unit that states it exactly: "7 days", "1 hour", "15
    minutes", "1 year", in the reader's language (the Russian forms are accusative: they
    follow «через», «на» and «действует»)."""
    seconds = int(span.total_seconds())
    if seconds and seconds % (365 * _DAY) == 0:
        years = seconds // (365 * _DAY)
        return ngettext("%(num)d year", "%(num)d years", years)
    if seconds and seconds % _DAY == 0:
        days = seconds // _DAY
        return ngettext("%(num)d day", "%(num)d days", days)
    if seconds and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(num)d hour", "%(num)d hours", hours)
    minutes = max(seconds // 60, 1)
    return ngettext("%(num)d minute", "%(num)d minutes", minutes)


def hours(number: int) -> str:
    """A setting counted in hours, said in hours ("48 hours", not "2 days")."""
    return ngettext("%(num)d hour", "%(num)d hours", number)


def longest_window(config: Mapping[str, Any], names: tuple[str, ...]) -> timedelta:
    """How long a rate-limit counter lives at most: the longest window among these limits
    ("30 per minute; 300 per hour" counts for an hour)."""
    windows = [item.get_expiry() for name in names for item in parse_many(str(config[name]))]
    return timedelta(seconds=max(windows, default=0))


def _listing(items: list[str]) -> str:
    return ", ".join(items)


def what_konvert_keeps(config: Mapping[str, Any]) -> list[Kept]:
    """Everything the page lists, in the reader's language, from ``config`` (the app's) and
    the organisation's mailroom settings."""
    return [
        *_letters(config),
        *_mailroom(config),
        *_addresses(config),
        *_around(config),
        *_organizers(config),
    ]


def _mailroom(config: Mapping[str, Any]) -> list[Kept]:
    organisation = current_organisation()
    reply_window = timedelta(days=organisation.reply_window_days)
    return [
        Kept(
            key="mailroom",
            thing=gettext("A letter sent through the organisation"),
            what=gettext(
                "The letter as above, its reference code, where it is in the mailroom (review, "
                "print run, posted, returned), a reason it was sent back to you (locked to "
                "your link), and the scans of replies that came back for it."
            ),
            how=gettext(
                "So that volunteers can review, print and match replies, the server keeps a "
                "copy of the letter's key locked with the server's master key. A reply's scan "
                "is locked to your letter's own key as soon as it is matched: only your link "
                "opens it, and the organisation's readable copy is deleted. The printed "
                "letters file is deleted once the run is posted."
            ),
            how_long=gettext(
                "The organisation's copy of the key is destroyed %(window)s after the letter "
                "was posted (the time replies are awaited), or at once when the letter is "
                "rejected or sent back to you (a resubmission gives a new copy). A reply that "
                "matches no letter waits %(hold)s, then it is deleted. Deleting the letter "
                "deletes its replies and returns too.",
                window=duration(reply_window),
                hold=duration(timedelta(days=HOLD_DAYS)),
            ),
            who=gettext(
                "The organisation's mailroom volunteers, organizers and admins until the key "
                "copy is destroyed; the replies only you. The censor reads the letter too."
            ),
            set_by=("/admin/organisation",),
        ),
        Kept(
            key="translation",
            thing=gettext("A translation by the organisation's volunteers"),
            what=gettext(
                "The translation of your letter, your note to the translator, and the "
                "translations of the replies that come back for it into your language."
            ),
            how=gettext(
                "The translation of your letter and your note are encrypted with your letter's "
                "own key; translators read them through the organisation's copy of that key. "
                "While a reply is translated, the desk keeps a copy of its scan and the draft "
                "encrypted with the server's master key; once the translation is done, it is "
                "locked to your link like the scan, and the desk's copy is deleted."
            ),
            how_long=gettext(
                "Until you delete the letter. The desk's copy of a reply's scan only until its "
                "translation is done."
            ),
            who=gettext(
                "The organisation's translators, organizers and admins while the letter or "
                "reply is at the desk or in the mailroom; afterwards only you. The censor and "
                "the prisoner read the printed translation."
            ),
            set_by=("/admin/organisation",),
        ),
    ]


def _letters(config: Mapping[str, Any]) -> list[Kept]:
    example = datetime(2026, 3, 14, 14, 37)
    pack_days = timedelta(days=int(config["PACK_KEEP_DAYS"]))
    return [
        Kept(
            key="letter",
            thing=gettext("Your letter or appeal"),
            what=gettext(
                "Its text, the name you sign with, an appeal's return address (only if you "
                "ticked “keep this address”), and the notes and tracking numbers you add to "
                "your reports (the post office knows who sent a registered letter)."
            ),
            how=gettext(
                "Encrypted (%(cipher)s) with a key made from your private link. The server "
                "keeps the link itself only scrambled (a keyed hash), which cannot be turned "
                "back into the link.",
                cipher=LETTER_CIPHER,
            ),
            how_long=gettext(
                "Until you delete the letter with the button on its page. Deleting removes its "
                "text, signature, address, notes and tracking numbers, the address left for its "
                "reminders and "
                "the emails waiting for it; only the anonymous outcome stays (see "
                "“Statistics and open data”)."
            ),
            who=gettext(
                "Only whoever holds the link: you, and anyone you give it to. A lost link means "
                "a lost letter: without it nobody can open the letter again, not the "
                "organizers and not whoever takes the server."
            ),
        ),
        Kept(
            key="reports",
            thing=gettext("What is known about each letter"),
            what=gettext(
                "Whom it is to and the facility it was addressed to, its template and language, "
                "when it was written, and what you reported: sent, arrived, answered and so "
                "on, with the day and the channel."
            ),
            how=gettext(
                "Not encrypted: the statistics are counted from it. It holds no name of yours. "
                "Times of what you do here are kept no more precisely than this: %(example)s is "
                "kept as %(kept)s. The days things happened are kept to the day.",
                example=f"{example:%H:%M}",  # 24-hour clock: the same in both languages
                kept=f"{kept_time(example):%H:%M}",
            ),
            how_long=gettext(
                "As long as the letter. Once you delete it, only the anonymous outcome stays."
            ),
            who=gettext(
                "The server; the organizers as counts (how many letters were written, sent, "
                "answered); everyone else only in the anonymous statistics."
            ),
        ),
        Kept(
            key="evenings",
            thing=gettext("Letters written at a letter-writing evening"),
            what=gettext(
                "The letter as above, the name you joined with, and whom you were asked to "
                "write to. Your page keeps the links of your letters, encrypted with the link "
                "of the page."
            ),
            how=gettext(
                "So that the organizers can print the letters, the server also keeps a copy "
                "of each letter's key, locked with the server's master key, until the batch "
                "is marked sent."
            ),
            how_long=gettext(
                "The organizers' copy of the key is destroyed when they mark the batch sent: "
                "the letter is then yours alone again. The print packs (the evening's letters "
                "as one PDF) are deleted then too, when a newer pack replaces them, and at the "
                "latest %(duration)s after they were made.",
                duration=duration(pack_days),
            ),
            who=gettext(
                "The evening's organizers, until the batch is marked sent; then only you. The "
                "organizers also see the name you joined with."
            ),
            set_by=("KONVERT_PACK_KEEP_DAYS",),
        ),
    ]


def _addresses(config: Mapping[str, Any]) -> list[Kept]:
    confirm = hours(int(config["OPTIN_CONFIRM_HOURS"]))
    reminder_days = sorted(int(days) for days in config["REMINDER_DAYS"])
    dead_keep = duration(timedelta(days=int(config["OUTBOX_DEAD_KEEP_DAYS"])))
    return [
        Kept(
            key="reminders",
            thing=gettext("An email address for reminders to report back"),
            what=gettext(
                "The address, and the link to your letter that the reminders must contain."
            ),
            how=gettext(
                "Encrypted with the server's own key, because the server must read it to send "
                "the reminders. Until you confirm it, the address gets one confirmation email "
                "and nothing else."
            ),
            how_long=gettext(
                "Not confirmed: deleted after %(confirm)s. Confirmed: deleted once the last "
                "reminder is sent, %(last)s after you report the letter sent (%(when)s), or "
                "earlier if you delete it with the link in each email or delete the letter.",
                confirm=confirm,
                last=duration(timedelta(days=reminder_days[-1])),
                when=ngettext(
                    "reminders go %(list)s day after it",
                    "reminders go %(list)s days after it",
                    reminder_days[-1],
                    list=format_list([str(days) for days in reminder_days], locale=get_locale()),
                ),
            ),
            who=gettext("The server, to send the reminders. Not the organizers."),
            set_by=("KONVERT_OPTIN_CONFIRM_HOURS", "REMINDER_DAYS"),
        ),
        Kept(
            key="follows",
            thing=gettext("An email address to hear when a prisoner is moved"),
            what=gettext("The address, and whom it follows."),
            how=gettext(
                "Encrypted with the server's own key, because the server must read it to send "
                "the news. Until you confirm it, the address gets one confirmation email, which "
                "names nobody, and nothing else."
            ),
            how_long=gettext(
                "Not confirmed: deleted after %(confirm)s. Confirmed: until you stop following "
                "with the link in each email.",
                confirm=confirm,
            ),
            who=gettext("The server, to send the news. Not the organizers."),
            set_by=("KONVERT_OPTIN_CONFIRM_HOURS",),
        ),
        Kept(
            key="emails",
            thing=gettext("Emails waiting to be sent"),
            what=gettext("The recipient, subject and text (which may hold a private link)."),
            how=gettext("In the database, until the email is sent."),
            how_long=gettext(
                "Once an email is sent, only its kind, status and times stay. One that cannot "
                "be delivered keeps its content %(duration)s, for an administrator to try "
                "again, then loses it too. Deleting an address deletes its emails.",
                duration=dead_keep,
            ),
            who=gettext("The server, and the administrators on the outbox page."),
            set_by=("KONVERT_OUTBOX_DEAD_KEEP_DAYS",),
        ),
    ]


def _around(config: Mapping[str, Any]) -> list[Kept]:
    published = [column for column in OPEN_DATA_COLUMNS if column != "is_demo"]
    return [
        Kept(
            key="statistics",
            thing=gettext("Statistics and open data"),
            what=gettext(
                "One row per letter reported sent: %(columns)s. A letter without news for "
                "%(days)s counts as “no news”. No writer, no prisoner, no text, no link and no "
                "date finer than the month.",
                columns=_listing(published),
                days=duration(timedelta(days=NO_NEWS_AFTER_DAYS)),
            ),
            how=gettext("Not encrypted: it is published."),
            how_long=gettext(
                "For good, also after you delete your letter: it is the evidence advocates cite."
            ),
            who=gettext("Everyone: the statistics pages, the open data downloads and the API."),
        ),
        Kept(
            key="counters",
            thing=gettext("Counters against abuse"),
            what=gettext(
                "How many requests came from one network address, counted under a keyed hash "
                "of the address, never the address itself; requests to confirm an email "
                "address are counted under a keyed hash of that address."
            ),
            how=gettext(
                "In the server's memory, or in the job queue's Redis when several servers "
                "share the counts."
            ),
            how_long=gettext(
                "A network address's counts at most %(address)s, an email address's at most "
                "%(email)s.",
                address=duration(longest_window(config, ADDRESS_LIMITS)),
                email=duration(longest_window(config, EMAIL_LIMITS)),
            ),
            who=gettext("The server."),
            set_by=tuple(f"KONVERT_{name}" for name in (*ADDRESS_LIMITS, *EMAIL_LIMITS)),
        ),
        Kept(
            key="not-kept",
            thing=gettext("What Konvert does not keep"),
            what=gettext(
                "Your IP address and browser, a log of the pages you open, the return address "
                "you type to print a letter (it is used for that PDF only), and any account: "
                "writers have none."
            ),
            how=gettext(
                "Your browser keeps the language you chose (a cookie, %(duration)s) and a "
                "session cookie that protects the forms.",
                duration=duration(timedelta(seconds=LANGUAGE_COOKIE_SECONDS)),
            )
            + " "
            + gettext(
                "While you write, it keeps a draft of your letter on this device only, never "
                "sent before you save; it is deleted once the letter is saved, or when you "
                "press “Forget this draft”."
            ),
            how_long=gettext("Nothing to delete."),
            who=gettext("Nobody."),
        ),
        Kept(
            key="logs",
            thing=gettext("Server logs"),
            what=gettext(
                "Errors, and what background jobs did (“3 emails sent”). There is no access "
                "log: no addresses, no browsers, no pages opened. Every private link is "
                "replaced by %(redacted)s before a line is written.",
                redacted=REDACTED,
            ),
            how=gettext("In the system log of the machine Konvert runs on."),
            how_long=gettext(
                "As long as that system log keeps them: the people who run this server "
                "decide, not Konvert."
            ),
            who=gettext("The people who run the server."),
        ),
        Kept(
            key="backups",
            thing=gettext("Backups"),
            what=gettext(
                "The whole database and the server's keys (the files %(files)s).",
                files=_listing([SECRET_KEY_FILE, MASTER_KEY_FILE]),
            ),
            how=gettext(
                "A backup can read what the server can: the addresses for reminders and news, "
                "and the letters of evenings not yet marked sent. Not your letters: they need "
                "their links."
            ),
            how_long=gettext(
                "As long as the people who run this server keep them: the deletions described "
                "here do not reach into old backups."
            ),
            who=gettext("Whoever holds a backup."),
        ),
    ]


def _organizers(config: Mapping[str, Any]) -> list[Kept]:
    return [
        Kept(
            key="accounts",
            thing=gettext("Organizers' and administrators' accounts"),
            what=gettext(
                "Email address, name, role and a password hash (never the password), and who "
                "changed which prisoner, facility or official, and when."
            ),
            how=gettext(
                "Login sessions, login links, invitations and password resets are kept only "
                "as keyed hashes. Files uploaded for import wait in the database until they "
                "are imported."
            ),
            how_long=gettext(
                "The account as long as it exists. A session ends at logout or after "
                "%(session)s; a login link works %(login_link)s, a password reset "
                "%(reset)s, an invitation %(invitation)s; an uploaded file is deleted after "
                "%(upload)s at the latest.",
                session=duration(timedelta(days=int(config["SESSION_DAYS"]))),
                login_link=duration(timedelta(minutes=int(config["LOGIN_LINK_MINUTES"]))),
                reset=hours(int(config["PASSWORD_RESET_HOURS"])),
                invitation=duration(timedelta(days=int(config["INVITATION_DAYS"]))),
                upload=duration(IMPORT_UPLOAD_MAX_AGE),
            ),
            who=gettext("The administrators, and the account's owner."),
            set_by=(
                "KONVERT_SESSION_DAYS",
                "KONVERT_LOGIN_LINK_MINUTES",
                "KONVERT_PASSWORD_RESET_HOURS",
                "KONVERT_INVITATION_DAYS",
            ),
        ),
    ]
