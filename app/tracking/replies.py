"""Replies the organisation's mailroom brought back to a letter: listed on its tracking page,
opened only with its link.

A matched reply's scan is stored sealed to the letter's public key (app.mailroom.incoming):
the server cannot read it between requests. The link a request presents gives the private key
(`letter_keys`), which opens the scan for that request only.
"""

from __future__ import annotations

from flask import abort, current_app
from werkzeug.wrappers import Response

from app.mailroom.services import replies
from app.models import IncomingMail, Letter
from app.privacy.crypto import CannotDecrypt, letter_keys, open_sealed
from app.stored_files import FileGone, read_file
from app.tracking import bp, services
from app.translation.replies import ReplyTranslation, reply_translations


def matched_replies(letter: Letter) -> list[IncomingMail]:
    """The replies matched to ``letter`` whose sealed scan is kept, in the order they came."""
    return [reply for reply in replies(letter) if reply.sealed and reply.scan_file_id is not None]


def open_reply(token: str, reply: IncomingMail) -> bytes:
    """The reply's scan (a PDF), opened with the letter's link; raises CannotDecrypt or
    FileGone when it cannot be."""
    assert reply.scan_file_id is not None
    blob = read_file(reply.scan_file_id)
    return open_sealed(letter_keys(token).private_key, blob, context=f"reply-scan:{reply.id}")


@bp.app_template_global()
def letter_replies(letter: Letter) -> list[IncomingMail]:
    """`matched_replies`, for the tracking page's replies block."""
    return matched_replies(letter)


@bp.app_template_global()
def reply_translations_of(letter: Letter) -> dict[int, ReplyTranslation]:
    """`reply_translations`, for the replies block: by reply id, with the text once done."""
    return reply_translations(letter)


@bp.get("/t/<token>/replies/<int:reply_id>")
def reply_scan(token: str, reply_id: int) -> Response:
    """The scan of a reply, for the holder of the letter's link only."""
    letter = services.get_letter(token) or abort(404)
    reply = next((found for found in matched_replies(letter) if found.id == reply_id), None)
    if reply is None:
        abort(404)
    try:
        pdf = open_reply(token, reply)
    except (CannotDecrypt, FileGone):
        abort(404)
    response = current_app.response_class(pdf, mimetype="application/pdf")
    # A neutral name: nothing in it says who wrote to whom. (No cache keeps it: app.caching
    # answers every route with a token "no-store".)
    response.headers["Content-Disposition"] = f'inline; filename="konvert-reply-{reply.id}.pdf"'
    return response
