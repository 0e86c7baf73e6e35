"""The instance's own keys, bound to the running app: link hashes, instance-encrypted fields,
and wrapping letter keys for organisers.

`install_master_key` loads the master key once per app (`app.privacy.master_key`); the
functions below derive what they need from it. A letter's own content is never encrypted
here: that takes the letter's link (`app.privacy.crypto.letter_keys`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from app.privacy.crypto import (
    decrypt_field,
    encrypt_field,
    instance_field_key,
    link_hash_key,
    unwrap_key,
    wrap_key,
)
from app.privacy.master_key import MASTER_KEY_VARIABLE, instance_master_key

_EXTENSION = "konvert.instance_keys"


@dataclass(frozen=True)
class InstanceKeys:
    """The master key and the keys derived from it, kept out of ``repr``."""

    master: bytes = field(repr=False)
    link_hash: bytes = field(repr=False)
    fields: bytes = field(repr=False)


def install_master_key(app: Flask, folder: Path) -> None:
    """Load the master key (``MASTER_KEY`` setting, else the instance folder's file) into
    ``app``. Called once by create_app; raises ValueError for a malformed key."""
    configured = app.config.get("MASTER_KEY") or ""
    master = instance_master_key(folder, {MASTER_KEY_VARIABLE: str(configured)})
    app.extensions[_EXTENSION] = InstanceKeys(
        master=master, link_hash=link_hash_key(master), fields=instance_field_key(master)
    )


def _keys() -> InstanceKeys:
    keys: InstanceKeys = current_app.extensions[_EXTENSION]
    return keys


def link_hash(token: str, purpose: str) -> str:
    """What is stored instead of a long-lived bearer link (a letter's tracking link, a drive
    participant's link, an unsubscribe link): HMAC-SHA256 keyed from the master key.

    ``purpose`` keeps a token of one kind of link from matching another kind's hash.
    """
    message = f"{purpose}:{token}".encode()
    return hmac.new(_keys().link_hash, message, hashlib.sha256).hexdigest()


def encrypt_for_instance(text: str, *, context: str) -> bytes:
    """Encrypt what the instance must read back later without anyone's link (a reminder's
    email address and link, a queued email), under a key derived from the master key."""
    return encrypt_field(_keys().fields, text, context=context)


def decrypt_for_instance(blob: bytes, *, context: str) -> str:
    """Read back what `encrypt_for_instance` wrote; raises CannotDecrypt if altered."""
    return decrypt_field(_keys().fields, blob, context=context)


def stored_file_key() -> bytes:
    """The key stored files are encrypted with (chunk by chunk, app.stored_files): taken
    once per download, because the chunks are read after the request's context has ended."""
    return _keys().fields


def wrap_for_organisers(letter_key: bytes, *, context: str) -> bytes:
    """A letter's content key wrapped with the master key, for organisers to read it."""
    return wrap_key(_keys().master, letter_key, context=context)


def unwrap_for_organisers(wrapped: bytes, *, context: str) -> bytes:
    """The content key wrapped by `wrap_for_organisers`; raises CannotDecrypt if altered."""
    return unwrap_key(_keys().master, wrapped, context=context)
