"""Letter and appeal templates loaded from the letters/ library."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import enum_column, utcnow


class TemplateKind(enum.StrEnum):
    """Whom a template is written to."""

    LETTER = "letter"  # to a prisoner
    APPEAL = "appeal"  # to an official


class Template(Model):
    """A template from the library; retired templates stay so old letters keep theirs."""

    __tablename__ = "template"
    __table_args__ = (UniqueConstraint("slug", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[TemplateKind] = mapped_column(enum_column(TemplateKind))
    occasion: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
