"""Files and folders on the server's disk that only Konvert's own user may read.

The database (and with it the print packs and the files uploaded for import, which are stored
in it) and the job queue hold what supporters wrote and who prisoners are: they are created with
mode 0600 (folders 0700), whatever the umask, so that another account on the machine cannot
read them.
Modes are given when a file is created (os.open), never fixed afterwards, so there is no moment
when a file is readable by others.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` (mode 0700) if it does not exist yet; return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return path


def write_private(path: Path, content: bytes, *, exclusive: bool = False) -> None:
    """Write ``content`` to a new file (or over an old one) readable by this user only.

    With ``exclusive``, an existing file is an error (FileExistsError) rather than replaced.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it is missing; tighten an existing one.

    For files other programs create later (SQLite creates the database's -wal and -shm files
    with the database file's own mode), creating the file first decides their mode. A file
    left readable by others by an older version is made private, with a note in the log.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)


def tighten(path: Path) -> None:
    """Make an existing file private (mode 0600 at most), if it is readable by others."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
            log.warning("%s was readable by other users (mode %o); made it private", path, mode)
    except OSError as error:  # not ours to change: say so, and go on
        log.warning("could not make %s private: %s", path, error)


def create_private_once(path: Path, content: bytes) -> bool:
    """Create ``path`` (mode 0600) holding ``content`` unless it exists; True if this call did.

    For a key made on first run: processes started at once on a new folder (the web server and
    the job consumer) agree on one. Each writes a whole file of its own and links it into
    place, and the first link wins; nobody ever reads a half-written file, and an existing
    file is never replaced.
    """
    if path.exists():
        return False
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    write_private(draft, content, exclusive=True)
    try:
        os.link(draft, path)
    except FileExistsError:
        return False  # another process made it a moment ago: theirs stands
    finally:
        draft.unlink()
    return True
