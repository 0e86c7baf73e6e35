"""No token in any log line: tracking links, drive participants, invitations, password
resets, unsubscribe and unfollow links, join codes.

A token in a URL is a credential: whoever reads it in a log can open the letter, the account
or the subscription behind it. Werkzeug's and gunicorn's request lines, Flask's
"Exception on /t/<token> [GET]", and tracebacks (an exception's message may quote a value)
would all write it. `TokenRedactor` is a logging filter that rewrites every record before any
handler formats it:

- The path of every route with a token in it is recognised from the app's URL map: each
  variable called ``token`` or ``…_token`` is a credential, so a new token route is covered
  by its name alone. ``/t/aBc…`` becomes ``/t/[token]``, in paths, full URLs and tracebacks.
- Bare tokens (32 or 43 characters of ``secrets.token_urlsafe``, letters of both cases) are
  replaced wherever they appear, for messages that quote one without its path.

`install` puts the filter on the loggers that log requests and errors (the root, the app's,
``konvert``, werkzeug's, gunicorn's, huey's) and on every handler they have, so that
records from child loggers (``konvert.mail``…) are rewritten by the handler that writes them.
`create_app` installs it with the app's routes; the job consumer installs it at its start.
The one exception is marked on its record (`KEEP_TOKENS`): emails written to the log when no
mail server is configured, so that on one machine the invitation link can be copied from the
terminal (the README says never to run so in production).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from flask import Flask

REDACTED = "[token]"
# A record logged with ``extra={KEEP_TOKENS: True}`` is left as it is: the emails the console
# transport writes to the log when no mail server is configured (development only), whose
# links are the point.
KEEP_TOKENS = "konvert_keep_tokens"
# Loggers whose records reach people's eyes: request lines, errors, jobs.
LOGGER_NAMES = (
    "",
    "konvert",
    "werkzeug",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "huey",
    "huey.consumer",
)
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?(\w+)>")
# What a token in a URL may be made of: up to the next / ? # & space, quote or bracket.
_TOKEN_TEXT = r"[^/?#&\s\"'<>\[\]]+"  # noqa: S105 - a pattern, not a password
# secrets.token_urlsafe(24) and (32): 32 and 43 characters of both cases, not in a longer word.
_BARE_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])"
    r"(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])"
)


def is_secret_variable(name: str) -> bool:
    """Whether a URL variable holds a credential: named ``token`` or ``…_token``."""
    return name == "token" or name.endswith("_token")


def route_patterns(rules: Iterable[str]) -> list[str]:
    """A regular expression for the part of each rule up to a secret variable.

    ``/drives/p/<token>/write/<int:assignment_id>`` gives ``/drives/p/``; ``/x/<int:id>/<token>``
    gives ``/x/[^/?#\\s]+/``. The token that follows is what gets replaced.
    """
    found: list[str] = []
    for rule in rules:
        pattern, position = "", 0
        for match in _VARIABLE.finditer(rule):
            pattern += re.escape(rule[position : match.start()])
            position = match.end()
            if is_secret_variable(match.group(1)) and pattern not in found:
                found.append(pattern)
            pattern += r"[^/?#\s]+"
    return found


class TokenRedactor(logging.Filter):
    """Rewrites a log record so that no token appears in its message or traceback.

    It knows bare tokens from the start and learns the token routes of each app built in the
    process (`learn`); one instance serves every logger, so installing it again changes
    nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._prefixes: list[str] = []
        self._in_paths: re.Pattern[str] | None = None

    def learn(self, prefixes: Iterable[str]) -> None:
        """Also redact what follows each of these path patterns."""
        new = [prefix for prefix in prefixes if prefix not in self._prefixes]
        if new:
            self._prefixes = [*self._prefixes, *new]
            # Longest first: /t/<token>/pdf's prefix must not stop at a shorter one's end.
            ordered = sorted(self._prefixes, key=len, reverse=True)
            alternatives = "|".join(f"(?:{prefix})" for prefix in ordered)
            self._in_paths = re.compile(f"(?P<prefix>{alternatives}){_TOKEN_TEXT}")

    def redact(self, text: str) -> str:
        """``text`` with every token replaced by ``[token]``."""
        if self._in_paths is not None:
            text = self._in_paths.sub(lambda m: m.group("prefix") + REDACTED, text)
        return _BARE_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message, traceback and stack; always let it through."""
        if getattr(record, KEEP_TOKENS, False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted here, so that handlers print this text rather than format their own.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


redactor = TokenRedactor()


def token_prefixes(app: Flask) -> list[str]:
    """The path patterns of the app's routes that carry a token."""
    return route_patterns(rule.rule for rule in app.url_map.iter_rules())


def install(extra_loggers: Iterable[str] = ()) -> None:
    """Put the redactor on the request and error loggers and on all the handlers they have.

    Idempotent; call it again once more handlers exist (the job consumer adds its own).
    """
    loggers = [logging.getLogger(name) for name in (*LOGGER_NAMES, *extra_loggers)]
    targets: list[logging.Filterer] = [*loggers]
    for logger in loggers:
        targets.extend(logger.handlers)
    if logging.lastResort is not None:
        targets.append(logging.lastResort)
    for target in targets:
        target.addFilter(redactor)  # once: addFilter skips a filter already there


def install_for_app(app: Flask) -> None:
    """Redact the app's token routes in every log line (`create_app` calls this)."""
    redactor.learn(token_prefixes(app))
    install([app.logger.name])
