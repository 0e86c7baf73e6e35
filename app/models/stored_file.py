"""Files kept in the database: print packs and import uploads now, mailroom runs and reply
scans later.

A file's content lives in rows of `StoredFileChunk` (BLOB on SQLite, bytea on PostgreSQL) of at
most a mebibyte each, so that every machine reads the same files, a backup of the database is a
backup of them, and a file written in the transaction that marks its job done is never seen
half-written. What owns a file points at it with a foreign key: a print job's is set to NULL
when the file is deleted (the job can then say the file is gone), an import upload goes with
its file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import utcnow


class StoredFile(Model):
    """One file: what kind it is, its size and checksum; its bytes are in its chunks."""

    __tablename__ = "stored_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the file is ("print_pack", "import_upload", …): each kind has its own retention rule.
    kind: Mapped[str] = mapped_column(String(30), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    byte_size: Mapped[int] = mapped_column(BigInteger)
    #: Hex SHA-256 of the whole content: lets a backup or a reader check what it got.
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFileChunk(Model):
    """A piece of a file's content, in order of ``seq`` (0, 1, 2, …); deleted with its file."""

    __tablename__ = "stored_file_chunk"

    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
