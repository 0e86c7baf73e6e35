"""Uploaded files kept between the dry run and the confirmed import.

The file waits in the database (app.stored_files, kind ``import_upload``), found again by a
random token that the confirmation form carries (not the session cookie, which is small and
readable by the browser), so that any machine can serve the confirmation. Only a keyed hash of
the token is stored. An upload is readable only by its uploader, for at most an hour, and is
used up by its first confirmation, whether the import is then done or refused. Expired uploads
are swept whenever an upload is stored or claimed, and hourly by a job (app.imports.tasks).

Everything here works in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ImportUpload, StoredFile
from app.stored_files import FileGone, delete_files, read_file, store_file
from app.tokens import TOKEN_BYTES, keyed_hash, looks_like_token

MAX_AGE = timedelta(hours=1)
FILE_KIND = "import_upload"
#: Keeps an upload token from matching the hash of any other kind of link.
HASH_PURPOSE = "import-upload"


@dataclass(frozen=True)
class ClaimedUpload:
    """A file taken out of the database to be imported now; it is no longer kept there."""

    kind: str
    filename: str
    data: bytes


def store_upload(user_id: int, kind: str, filename: str, data: bytes, now: datetime) -> str:
    """Keep ``data`` for a later import by ``user_id``; returns the token that finds it again."""
    sweep_expired_uploads(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    stored = store_file(FILE_KIND, data, "application/octet-stream")
    db.session.add(
        ImportUpload(
            token_hash=keyed_hash(token, HASH_PURPOSE),
            user_id=user_id,
            kind=kind,
            filename=filename,
            file_id=stored.id,
            created_at=now,
            expires_at=now + MAX_AGE,
        )
    )
    db.session.flush()
    return token


def claim_upload(user_id: int, token: str, now: datetime) -> ClaimedUpload | None:
    """Take the upload behind ``token`` out of the database, if it is fresh and ``user_id``'s.

    None when there is no such upload: expired, used already, someone else's, or never made.
    Of two claims of the same upload at once, one gets it and the other None: the deletion
    decides, and it waits for the other's to commit or roll back.
    """
    if not looks_like_token(token or ""):
        return None
    sweep_expired_uploads(now)
    upload = db.session.scalar(
        select(ImportUpload).where(
            ImportUpload.token_hash == keyed_hash(token, HASH_PURPOSE),
            ImportUpload.user_id == user_id,
            ImportUpload.expires_at > now,
        )
    )
    if upload is None:
        return None
    claimed_kind, filename, file_id = upload.kind, upload.filename, upload.file_id
    db.session.expunge(upload)  # deleted below by its file's cascade, behind the ORM's back
    try:
        data = read_file(file_id)
    except FileGone:
        return None  # claimed by another request meanwhile
    if delete_files([file_id]) != 1:
        return None  # claimed by another request meanwhile
    return ClaimedUpload(claimed_kind, filename, data)


def sweep_expired_uploads(now: datetime) -> int:
    """Delete the uploads past their hour, and any upload file that no upload holds (its
    uploader's account was deleted); returns how many files were deleted."""
    held = select(ImportUpload.id).where(
        ImportUpload.file_id == StoredFile.id, ImportUpload.expires_at > now
    )
    stale = select(StoredFile.id).where(StoredFile.kind == FILE_KIND, ~held.exists())
    return delete_files(db.session.scalars(stale).all())
