"""Keeping the database's templates in step with the letters/ library."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.library.checks import check_spec
from app.library.files import TemplateFileError, read_library
from app.models import Template


@dataclass
class SyncReport:
    """What a sync changed, by "slug/language"."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def sync_templates(directory: Path) -> SyncReport:
    """Create or update a template per file and retire those whose file is gone.

    Idempotent. Retired templates are kept so that letters written from them keep theirs.
    Raises TemplateFileError, before changing anything, when any file is malformed or fails
    `flask letters check`: only checked templates are offered to writers.
    """
    specs = read_library(directory)
    for spec in specs:
        problems = check_spec(spec)
        if problems:
            raise TemplateFileError(f"{spec.path}: {'; '.join(problems)}")
    existing = {(t.slug, t.language): t for t in db.session.scalars(select(Template))}
    report = SyncReport()
    for spec in specs:
        key = f"{spec.slug}/{spec.language}"
        values = {
            "kind": spec.kind,
            "occasion": spec.occasion,
            "title": spec.title,
            "guidance": spec.guidance,
            "body": spec.body,
            "retired": False,
        }
        template = existing.pop((spec.slug, spec.language), None)
        if template is None:
            db.session.add(Template(slug=spec.slug, language=spec.language, **values))
            report.created.append(key)
        elif any(getattr(template, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(template, name, value)
            report.updated.append(key)
        else:
            report.unchanged.append(key)
    for template in existing.values():
        if not template.retired:
            template.retired = True
            report.retired.append(f"{template.slug}/{template.language}")
    return report
