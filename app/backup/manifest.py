"""The manifest of a backup: what it holds, where from, and a checksum of every file.

``manifest.json`` is written last, so a folder without one is a backup that did not finish.
A restore reads it first and checks every file against it before it changes anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from app.private_files import write_private

MANIFEST = "manifest.json"
FORMAT = 1  # raised when a backup's layout changes in a way an older restore cannot read


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BackupFile:
    """One file of a backup. ``sha256`` is None for a dump made by hand (the printed
    command), whose checksum the backup could not know."""

    name: str
    role: str  # "database", "queue" or "secret"
    size: int | None
    sha256: str | None


@dataclass
class Manifest:
    """What ``manifest.json`` says."""

    konvert_version: str
    alembic_revision: str | None
    database: str  # "sqlite" or "postgresql"
    queue: str  # "sqlite" (jobs.db is in the backup) or "redis" (it is not)
    created_at: str
    secret_key_from: str  # "instance file" or "setting" (KONVERT_SECRET_KEY)
    counts: dict[str, int] | None  # rows in the database copy, from the same snapshot
    files: list[BackupFile] = field(default_factory=list)
    # On PostgreSQL without pg_dump: the command that makes the missing database dump.
    pending_command: str | None = None
    format: int = FORMAT

    def file(self, role: str) -> BackupFile | None:
        """The first file with this role, if the backup has one."""
        return next((item for item in self.files if item.role == role), None)

    def with_role(self, role: str) -> list[BackupFile]:
        """Every file with this role."""
        return [item for item in self.files if item.role == role]


def konvert_version() -> str:
    """The installed Konvert's version (pyproject.toml)."""
    try:
        return metadata.version("konvert")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def now_utc() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (a database can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def describe(folder: Path, name: str, role: str) -> BackupFile:
    """A file of the backup folder, with its size and checksum."""
    path = folder / name
    return BackupFile(name=name, role=role, size=path.stat().st_size, sha256=sha256_of(path))


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` (mode 0600): the last step of a backup."""
    text = json.dumps(asdict(manifest), indent=2, ensure_ascii=False) + "\n"
    write_private(folder / MANIFEST, text.encode("utf-8"), exclusive=True)


def read_manifest(folder: Path) -> Manifest:
    """Read a backup's manifest, or say why it cannot be read."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder")
    if not path.is_file():
        raise BackupError(
            f"{path} is missing: this is not a Konvert backup, or one that did not finish"
        )
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise BackupError(
                f"{path} is of backup format {data.get('format')!r}; this Konvert reads "
                f"format {FORMAT}: restore it with the Konvert version that made it "
                f"({data.get('konvert_version')})"
            )
        files = [BackupFile(**item) for item in data.pop("files")]
        return Manifest(files=files, **data)
    except (ValueError, TypeError, KeyError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from error


def verify_files(folder: Path, manifest: Manifest) -> list[str]:
    """Check every file against its checksum; the problems found (none: all good).

    A file without a checksum (a dump made by hand with the printed command) only has to
    exist; the restore then checks that pg_restore can read it.
    """
    problems = []
    for item in manifest.files:
        path = folder / item.name
        if Path(item.name).name != item.name:
            problems.append(f"{item.name}: not a plain file name")
        elif not path.is_file():
            problems.append(f"{item.name} is missing")
        elif item.sha256 is not None and sha256_of(path) != item.sha256:
            problems.append(f"{item.name} has changed since the backup (checksum differs)")
    return problems
