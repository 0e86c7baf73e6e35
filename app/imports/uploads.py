"""Uploaded files kept between the dry run and the confirmed import.

The file waits in the instance folder under a random token (not in the session cookie, which
is small and readable by the browser), readable only by its uploader, for at most an hour; it
is deleted once imported. Expired files are swept whenever an upload is stored or read.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from app.private_files import private_folder, write_private

MAX_AGE_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class StoredUpload:
    """A file waiting to be imported."""

    token: str
    kind: str
    filename: str
    data: bytes
    user_id: int


def _paths(folder: Path, token: str) -> tuple[Path, Path]:
    return folder / f"{token}.data", folder / f"{token}.json"


def store_upload(folder: Path, kind: str, filename: str, data: bytes, user_id: int) -> str:
    """Keep ``data`` for a later import; returns the token that finds it again."""
    private_folder(folder)
    purge_expired(folder)
    token = secrets.token_urlsafe(32)
    data_path, meta_path = _paths(folder, token)
    write_private(data_path, data, exclusive=True)  # mode 0600
    meta = {"kind": kind, "filename": filename, "user_id": user_id}
    write_private(meta_path, json.dumps(meta).encode("utf-8"), exclusive=True)
    return token


def load_upload(folder: Path, token: str, user_id: int) -> StoredUpload | None:
    """The upload behind ``token`` if it exists, is fresh and belongs to ``user_id``."""
    if not _TOKEN.match(token or ""):
        return None
    purge_expired(folder)
    data_path, meta_path = _paths(folder, token)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = data_path.read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user_id:
        return None
    return StoredUpload(token, str(meta["kind"]), str(meta["filename"]), data, user_id)


def discard_upload(folder: Path, token: str) -> None:
    """Delete an upload (after it was imported)."""
    if not _TOKEN.match(token or ""):
        return
    for path in _paths(folder, token):
        path.unlink(missing_ok=True)


def purge_expired(folder: Path, now: float | None = None) -> None:
    """Delete uploads older than an hour."""
    if not folder.is_dir():
        return
    limit = (now if now is not None else time.time()) - MAX_AGE_SECONDS
    for path in folder.iterdir():
        try:
            if path.suffix in (".data", ".json") and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # removed by another worker meanwhile
