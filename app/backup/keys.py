"""The instance's secrets in a backup: the secret key and every other key file.

Without them a restored database is of little use: the secret key signs sessions and keys
the hashes of login sessions and links, and the keys kept beside it (such as a master key for
encryption at rest) are what make the data readable. They are all in the instance folder, as
files whose names the patterns below match. Whoever adds a secret to the instance folder
gives it a name that ends in ``key`` (``master_key``) or ``.key``/``.pem``, or adds its
pattern here: the backup then carries it with nothing else to change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from app.private_files import write_private

# Written by create_app when KONVERT_SECRET_KEY is unset.
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
SECRET_FILE_PATTERNS = ("*key", "*.key", "*key.*", "*.pem")
FROM_FILE = "instance file"
FROM_SETTING = "setting"


def is_secret_file(path: Path) -> bool:
    """Whether a file of the instance folder is one of its secrets."""
    return path.is_file() and any(fnmatch(path.name, pattern) for pattern in SECRET_FILE_PATTERNS)


def secret_key_source(instance: Path, secret_key: str) -> str:
    """Where the app's secret key comes from: its instance file or KONVERT_SECRET_KEY."""
    key_file = instance / SECRET_KEY_FILE
    if key_file.is_file() and key_file.read_text().strip() == secret_key:
        return FROM_FILE
    return FROM_SETTING


@dataclass(frozen=True)
class Secrets:
    """The secret files to put in a backup, by name, and where the secret key came from."""

    files: dict[str, bytes]
    secret_key_from: str


def collect_secrets(instance: Path, secret_key: str) -> Secrets:
    """The secret key in use (as ``secret_key``, even when it is set by KONVERT_SECRET_KEY:
    it keys stored hashes, so the restored instance must use the same one) and every other
    secret file of the instance folder."""
    files = {SECRET_KEY_FILE: secret_key.encode()}
    for path in sorted(instance.iterdir()):
        if path.name != SECRET_KEY_FILE and is_secret_file(path):
            files[path.name] = path.read_bytes()
    return Secrets(files=files, secret_key_from=secret_key_source(instance, secret_key))


def write_secret(folder: Path, name: str, content: bytes) -> None:
    """Write a secret file (mode 0600) in place of any older one, never half-written: it is
    written beside, then renamed over the old one."""
    partial = folder / f".{name}.restoring"
    partial.unlink(missing_ok=True)
    write_private(partial, content, exclusive=True)
    os.replace(partial, folder / name)
