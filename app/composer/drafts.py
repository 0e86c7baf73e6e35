"""Drafts kept in the writer's browser (app/static/js/drafts.js): only their keys are known here.

The text of a draft never reaches the server before "Save". The server names the draft of each
compose page, and after a letter is saved tells the next page to forget that draft, so that a
saved letter's text does not stay in a shared browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import session

if TYPE_CHECKING:
    from app.models import Official, Prisoner

#: The session entry naming the drafts the next page tells the browser to forget.
_FORGET = "forget_drafts"


def draft_key(prisoner: Prisoner, official: Official | None = None) -> str:
    """The browser's name for the draft of a letter to ``prisoner`` or an appeal to ``official``.

    Ids only: the key sits in the writer's own browser, beside the text it names.
    """
    if official is not None:
        return f"konvert-draft:appeal:{prisoner.id}:{official.id}"
    return f"konvert-draft:letter:{prisoner.id}"


def drive_draft_key(assignment_id: int) -> str:
    """The name of the draft of a drive participant's letter for one assignment."""
    return f"konvert-draft:drive:{assignment_id}"


def forget_after_save(key: str) -> None:
    """Ask the next page shown in this browser to delete the draft ``key``: it is saved now."""
    session[_FORGET] = [*session.get(_FORGET, []), key][-10:]


def drafts_to_forget() -> list[str]:
    """The drafts saved since the last page, once (templates/base.html hands them to drafts.js)."""
    keys = session.pop(_FORGET, None) if _FORGET in session else None
    return [str(key) for key in keys or []]
