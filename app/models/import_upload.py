"""Files uploaded for import, waiting between their dry run and the organizer's confirmation.

They are kept in the database, not in a machine's instance folder, so that the confirmation
may be served by any machine. The content is a `StoredFile` (kind ``import_upload``); deleting
that file deletes the upload with it (ON DELETE CASCADE), which is how an upload is used up,
refused or swept in one statement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import utcnow


class ImportUpload(Model):
    """One uploaded file that its uploader may import until ``expires_at``.

    Only a keyed hash of the token that finds it again is kept (app.tokens.keyed_hash).
    """

    __tablename__ = "import_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Who uploaded it: nobody else may import it.
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    #: "facilities" or "prisoners".
    kind: Mapped[str] = mapped_column(String(20))
    #: The uploaded file's own name, for the report only (never used as a path).
    filename: Mapped[str] = mapped_column(String(200))
    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_file.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
