"""The instance master key: what lets organisers read the letters in their hands.

Letters in a drive (until the batch is sent) or in the mailroom (until the reply window closes)
keep a copy of their content key wrapped with this key (`app.privacy.crypto.wrap_key`).

Where it comes from, first match wins:

1. ``KONVERT_MASTER_KEY``: 32 bytes as 64 hex digits or base64 (standard or URL-safe, padding
   optional). Several machines serving one database must share it, as they share
   ``KONVERT_SECRET_KEY``; it may also live outside the disk the database is on.
2. The file ``master_key`` in the instance folder (hex, mode 0600), created on first use the
   way the instance ``secret_key`` is, and carried by backups (app/backup/keys.py copies every
   ``*key`` file of the instance folder).

An existing key that cannot be read is an error, never a reason to make a new one: a new key
would silently make every wrapped letter key unreadable.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from app.privacy.crypto import KEY_BYTES, new_master_key
from app.private_files import create_private_once, private_folder, tighten

MASTER_KEY_FILE: Final = "master_key"
MASTER_KEY_VARIABLE: Final = "KONVERT_MASTER_KEY"

_HEX: Final = re.compile(r"[0-9a-fA-F]{64}")
_BASE64: Final = re.compile(r"[A-Za-z0-9+/_-]{43}=?")

log = logging.getLogger(__name__)


def instance_master_key(folder: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The master key: ``KONVERT_MASTER_KEY`` if set, else the instance folder's key file,
    which is created (mode 0600) the first time.

    ``environ`` defaults to the process environment (tests pass their own).
    Raises ValueError, without echoing the value, if the variable or the file is malformed.
    """
    environment = os.environ if environ is None else environ
    configured = environment.get(MASTER_KEY_VARIABLE, "").strip()
    if configured:
        return parse_master_key(configured, source=MASTER_KEY_VARIABLE)
    key_file = private_folder(folder) / MASTER_KEY_FILE
    if create_private_once(key_file, new_master_key().hex().encode("ascii") + b"\n"):
        log.info("Generated a new master key in %s", key_file)
    else:
        tighten(key_file)  # made readable by others by hand or by an old copy: private again
    return parse_master_key(key_file.read_text(encoding="ascii"), source=str(key_file))


def parse_master_key(text: str, *, source: str = MASTER_KEY_VARIABLE) -> bytes:
    """Read a master key written as 64 hex digits or as base64 of 32 bytes.

    Raises ValueError naming ``source`` but never the value, which may be a real key mistyped.
    """
    value = text.strip()
    try:
        if _HEX.fullmatch(value):
            return bytes.fromhex(value)
        if _BASE64.fullmatch(value):
            standard = value.rstrip("=").replace("-", "+").replace("_", "/")
            key = base64.b64decode(standard + "=", validate=True)
            if len(key) == KEY_BYTES:
                return key
    except (ValueError, binascii.Error):
        pass
    raise ValueError(
        f"{source} must be a 32-byte key as 64 hex digits or base64, for example from "
        "`python3 -c 'import secrets; print(secrets.token_hex(32))'`"
    )
