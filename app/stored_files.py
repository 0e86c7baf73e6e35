"""Files kept in the database (app.models.stored_file): written, streamed back, deleted.

A file is written in the caller's transaction, so that it appears together with whatever marks
it ready (a print job done) or not at all. Every chunk is encrypted with the instance key
(a print pack holds letters in clear text, an upload a list of prisoners): a copy of the
database without the master key shows none of it, nor does a page a deleted file left behind.
It is read back one chunk at a time, each in a short transaction of its own on a connection of
the pool: a slow download holds neither a snapshot nor a session open while the bytes travel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, insert, select
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import StoredFile, StoredFileChunk
from app.privacy.crypto import decrypt_bytes, encrypt_bytes
from app.privacy.instance import stored_file_key

#: Bytes per chunk row: small enough for any driver and for a web process's memory, large
#: enough that a print pack of a few megabytes is a handful of rows.
CHUNK_BYTES = 1024 * 1024


class FileGone(Exception):
    """The file was deleted while it was being read."""


def store_file(kind: str, content: bytes, media_type: str) -> StoredFile:
    """Add ``content`` as a new file of ``kind``, in the current transaction."""
    stored = StoredFile(
        kind=kind,
        media_type=media_type,
        byte_size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.session.add(stored)
    db.session.flush()
    key = stored_file_key()
    rows = [
        {
            "file_id": stored.id,
            "seq": seq,
            "data": encrypt_bytes(
                key, content[start : start + CHUNK_BYTES], context=_chunk_context(stored.id, seq)
            ),
        }
        for seq, start in enumerate(range(0, len(content), CHUNK_BYTES))
    ]
    if rows:
        db.session.execute(insert(StoredFileChunk), rows)
    return stored


def delete_files(file_ids: Iterable[int]) -> int:
    """Delete these files and their chunks, in the current transaction; returns how many.

    Owners' links to them become NULL (a print job's foreign key says ON DELETE SET NULL), or
    the owners go with them (an import upload's says CASCADE); owners already loaded in this
    session still show the old state until they are refreshed.
    """
    ids = sorted(set(file_ids))
    if not ids:
        return 0
    result = db.session.execute(
        delete(StoredFile).where(StoredFile.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    return int(cast(CursorResult[Any], result).rowcount)


def read_file(file_id: int) -> bytes:
    """The whole content of a file (tests, backups); raises FileGone when there is none."""
    sequence = _sequence(db.engine, file_id)
    return b"".join(_chunks(db.engine, file_id, sequence, stored_file_key()))


def _sequence(engine: Engine, file_id: int) -> list[int]:
    with engine.connect() as connection:
        found = connection.execute(
            select(StoredFile.id).where(StoredFile.id == file_id)
        ).scalar_one_or_none()
        if found is None:
            raise FileGone(file_id)
        return list(
            connection.execute(
                select(StoredFileChunk.seq)
                .where(StoredFileChunk.file_id == file_id)
                .order_by(StoredFileChunk.seq)
            ).scalars()
        )


def _chunk_context(file_id: int, seq: int) -> str:
    # Binds each chunk to its place: chunks swapped or moved to another file fail to decrypt.
    return f"stored-file:{file_id}:{seq}"


def _chunks(engine: Engine, file_id: int, sequence: list[int], key: bytes) -> Iterator[bytes]:
    for seq in sequence:
        with engine.connect() as connection:
            data = connection.execute(
                select(StoredFileChunk.data).where(
                    StoredFileChunk.file_id == file_id, StoredFileChunk.seq == seq
                )
            ).scalar_one_or_none()
        if data is None:
            # Deleted meanwhile: stop short of Content-Length, so the client sees a broken
            # download rather than a shorter file that looks whole.
            raise FileGone(file_id)
        yield decrypt_bytes(key, bytes(data), context=_chunk_context(file_id, seq))


def file_response(stored: StoredFile, download_name: str) -> Response:
    """Stream ``stored`` to the client, chunk by chunk, with its length known in advance.

    ``download_name`` is what the browser saves it as; keep it content-neutral.
    """
    engine = db.engine  # the body is produced after the request's context has ended
    sequence = _sequence(engine, stored.id)
    response = Response(
        _chunks(engine, stored.id, sequence, stored_file_key()),
        mimetype=stored.media_type,
        direct_passthrough=True,
    )
    response.headers["Content-Length"] = str(stored.byte_size)
    response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    return response
