"""The cryptography of privacy at rest: pure functions, no app, no database.

What a seized server must not reveal is protected by keys it does not keep:

- A letter's **content key** (AES-256-GCM) and **X25519 key pair** are derived (HKDF-SHA256)
  from its tracking token, which only the link holder has; the server stores only the public
  key and a keyed hash of the token. `letter_keys` derives them again on each request that
  presents the token.
- **Fields** (body, signature, addresses, notes) are encrypted with the content key by
  `encrypt_field`, bound to their context ("letter:body") so that a ciphertext copied into
  another field fails to decrypt instead of showing up in the wrong place.
- What arrives later for the writer (a reply scan, a translation, an organiser's message) is
  **sealed** to the letter's public key with `seal`: the server can write it but, once the
  request is over, cannot read it back; only `open_sealed` with the private key, that is the
  link, can.
- While an organisation must read a letter, its content key is **wrapped** with the instance
  master key (`wrap_key`), and the wrapped copy is deleted when it is no longer needed.

Every blob starts with a format version byte so that the formats can change without guessing.
Every failure to decrypt (wrong key, wrong context, altered or truncated blob, unknown version)
raises `CannotDecrypt`: never garbage, and never a different exception for a different cause
that callers might forget to catch.

All labels are versioned (``konvert/v1/...``): a later scheme gets new labels, so keys and
ciphertexts of two schemes can never be mistaken for one another.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES: Final = 32  # AES-256 keys, X25519 keys, the master key
NONCE_BYTES: Final = 12  # AES-GCM's standard 96-bit nonce
TAG_BYTES: Final = 16  # AES-GCM's authentication tag
FORMAT_V1: Final = b"\x01"  # first byte of every blob this module writes

# The shape of a tracking token (app/tokens.py): 43 URL-safe characters, 256 bits. Checked here
# too, so that a short or mistyped value can never become a key: keys are only as strong as
# the token they come from.
_TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{43}")

# HKDF's salt need not be secret; a fixed one says "Konvert's letter keys" and nothing else.
_LETTER_SALT: Final = b"konvert/v1/letter-keys"
_CONTENT_KEY_INFO: Final = b"konvert/v1/letter-content"
_PRIVATE_KEY_INFO: Final = b"konvert/v1/letter-x25519"
_SEAL_INFO: Final = b"konvert/v1/seal"
_WRAPPING_KEY_INFO: Final = b"konvert/v1/master-wrap"
_LINK_KEY_SALT: Final = b"konvert/v1/link-keys"
_LINK_HASH_INFO: Final = b"konvert/v1/link-hash"
_INSTANCE_FIELD_INFO: Final = b"konvert/v1/instance-fields"
# Associated data labels: a field's ciphertext and a wrapped key can never pass for each other
# even under the same key.
_FIELD_LABEL: Final = b"konvert/v1/field"
_WRAP_LABEL: Final = b"konvert/v1/wrapped-letter-key"
_BYTES_LABEL: Final = b"konvert/v1/bytes"


class CannotDecrypt(Exception):
    """A blob could not be decrypted: wrong key or context, altered, truncated or unknown.

    The message names the kind of failure only; it never holds key or plaintext material.
    """


@dataclass(frozen=True)
class LetterKeys:
    """The keys of one letter, derived from its tracking token.

    ``content_key`` encrypts the letter's fields; ``private_key`` opens what was sealed to
    ``public_key`` (raw 32 bytes, the one part the server stores). The secret parts are kept
    out of ``repr`` so that a log line or a traceback never shows them.
    """

    content_key: bytes = field(repr=False)
    private_key: X25519PrivateKey = field(repr=False)
    public_key: bytes


def letter_keys(token: str) -> LetterKeys:
    """Derive a letter's keys from its tracking token (43 URL-safe characters, 256 bits).

    The same token always gives the same keys, so nothing secret is stored: whoever presents
    the link can read the letter, and nobody else, including the server between requests.
    Two HKDF expansions with distinct labels make the content key and the X25519 private key
    independent: knowing one says nothing about the other.

    Raises ValueError for anything that is not shaped like a tracking token.
    """
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        raise ValueError("a letter's keys come only from a 43-character tracking token")
    secret = token.encode("ascii")
    content_key = _hkdf(secret, salt=_LETTER_SALT, info=_CONTENT_KEY_INFO)
    # X25519 accepts any 32 bytes as a private key (it clamps them itself).
    private_key = X25519PrivateKey.from_private_bytes(
        _hkdf(secret, salt=_LETTER_SALT, info=_PRIVATE_KEY_INFO)
    )
    return LetterKeys(
        content_key=content_key,
        private_key=private_key,
        public_key=private_key.public_key().public_bytes_raw(),
    )


def encrypt_field(key: bytes, plaintext: str, *, context: str) -> bytes:
    """Encrypt one text field with a letter's content key (AES-256-GCM).

    ``context`` names what the field is (``"letter:body"``, ``"letter:signature"``) and is
    authenticated with it: the ciphertext decrypts only under the same context, so a value
    moved to another column, or to another letter's row (whose key differs anyway), fails
    rather than being shown in the wrong place. A fresh random 96-bit nonce each time makes
    two encryptions of the same text differ; at the few fields per letter Konvert encrypts,
    random nonces stay far below AES-GCM's 2**32 messages per key.

    The blob is: format byte (1) | nonce (12) | ciphertext | tag (16).
    """
    return _aead_encrypt(key, plaintext.encode("utf-8"), label=_FIELD_LABEL, context=context)


def decrypt_field(key: bytes, blob: bytes, *, context: str) -> str:
    """Decrypt a field written by `encrypt_field` with the same key and context.

    Raises CannotDecrypt if the key or context is wrong or the blob was altered.
    """
    plaintext = _aead_decrypt(key, blob, label=_FIELD_LABEL, context=context)
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:  # authentic, yet not ours: refuse rather than guess
        raise CannotDecrypt("not a text field") from None


def encrypt_bytes(key: bytes, data: bytes, *, context: str) -> bytes:
    """`encrypt_field` for bytes (a piece of a stored file); same blob format, its own label."""
    return _aead_encrypt(key, data, label=_BYTES_LABEL, context=context)


def decrypt_bytes(key: bytes, blob: bytes, *, context: str) -> bytes:
    """Decrypt what `encrypt_bytes` wrote; raises CannotDecrypt like `decrypt_field`."""
    return _aead_decrypt(key, blob, label=_BYTES_LABEL, context=context)


def seal(public_key: bytes, data: bytes, *, context: str) -> bytes:
    """Encrypt ``data`` so that only the holder of the letter's private key can read it.

    For what reaches the writer after they wrote: a reply scan, its translation, an
    organiser's message. An ephemeral X25519 key agreement with the letter's public key gives
    a one-time AES-256-GCM key (HKDF-SHA256; the salt binds both public keys, the info binds
    the context); the ephemeral private key is dropped at once, so the server that sealed the
    data cannot open it afterwards. Because each key is used once, the nonce is derived with
    it rather than drawn. Fit for scans of several megabytes (data is held in memory).

    The blob is: format byte (1) | ephemeral public key (32) | ciphertext | tag (16).
    Raises ValueError if ``public_key`` is not a 32-byte X25519 public key.
    """
    _check_context(context)
    recipient = _public_key(public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    key, nonce = _sealing_key(ephemeral.exchange(recipient), ephemeral_public, public_key, context)
    header = FORMAT_V1 + ephemeral_public
    return header + AESGCM(key).encrypt(nonce, data, header)


def open_sealed(private_key: X25519PrivateKey, blob: bytes, *, context: str) -> bytes:
    """Open a blob made by `seal` for this private key's public key and the same context.

    Raises CannotDecrypt for another key pair, another context, or an altered blob.
    """
    _check_context(context)
    header_length = 1 + KEY_BYTES
    if len(blob) < header_length + TAG_BYTES:
        raise CannotDecrypt("too short to be a sealed blob")
    if blob[:1] != FORMAT_V1:
        raise CannotDecrypt("unknown format version")
    header = blob[:header_length]
    ephemeral_public = header[1:]
    own_public = private_key.public_key().public_bytes_raw()
    try:
        # An altered ephemeral key may be a low-order point: X25519 then refuses (all-zero
        # shared secret) with ValueError, which is just another forged blob to us.
        shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key, nonce = _sealing_key(shared, ephemeral_public, own_public, context)
        return AESGCM(key).decrypt(nonce, blob[header_length:], header)
    except (InvalidTag, ValueError):
        raise CannotDecrypt("not sealed to this key and context, or altered") from None


def wrap_key(master_key: bytes, letter_key: bytes, *, context: str) -> bytes:
    """Encrypt a letter's content key with the instance master key, bound to ``context``.

    Used while an organisation must read a letter (a drive until its batch is sent, the
    mailroom until the reply window closes); deleting the wrapped copy gives the letter back
    to its writer alone. ``context`` names the letter (``"letter:42"``) so that a wrapped key
    copied onto another letter's row does not unwrap there.

    AES-256-GCM rather than AES key wrap (RFC 3394/5649, `keywrap`): key wrap takes no
    associated data, so it cannot bind the wrapped key to its letter, and GCM is the primitive
    the fields already use (one blob format to review). Wrapping uses a key derived from the
    master key (HKDF, its own label), not the master key itself, so that the master key can
    serve other purposes later (e.g. reminder subscriptions) without two uses sharing a key.
    Random nonces allow 2**32 wraps per master key, far beyond any instance.

    Raises ValueError unless both keys are 32 bytes.
    """
    if len(letter_key) != KEY_BYTES:
        raise ValueError("a letter key is 32 bytes")
    return _aead_encrypt(_wrapping_key(master_key), letter_key, label=_WRAP_LABEL, context=context)


def unwrap_key(master_key: bytes, wrapped: bytes, *, context: str) -> bytes:
    """Recover a letter key wrapped by `wrap_key` with the same master key and context.

    Raises CannotDecrypt for another master key or context, or an altered blob.
    """
    letter_key = _aead_decrypt(
        _wrapping_key(master_key), wrapped, label=_WRAP_LABEL, context=context
    )
    if len(letter_key) != KEY_BYTES:
        raise CannotDecrypt("not a wrapped letter key")
    return letter_key


def link_key(token: str, purpose: str) -> bytes:
    """A 32-byte key derived from another bearer link than a letter's (a drive participant's,
    at least 32 URL-safe characters), for what only that link's holder may read back.

    Raises ValueError for anything shorter or not URL-safe.
    """
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9_-]{32,}", token):
        raise ValueError("a link key comes only from a URL-safe token of 32 characters or more")
    _check_context(purpose)
    return _hkdf(token.encode("ascii"), salt=_LINK_KEY_SALT, info=purpose.encode("utf-8"))


def link_hash_key(master_key: bytes) -> bytes:
    """The HMAC key that bearer links are hashed with, derived from the master key.

    Derived from the master key rather than the Flask secret key so that rotating the secret
    key (to end every session) never makes every letter unreachable.
    """
    _check_key(master_key, "the master key")
    return _hkdf(master_key, salt=b"", info=_LINK_HASH_INFO)


def instance_field_key(master_key: bytes) -> bytes:
    """The key of what the instance itself must read back later (a reminder's address and
    link, an email waiting in the outbox), derived from the master key with its own label."""
    _check_key(master_key, "the master key")
    return _hkdf(master_key, salt=b"", info=_INSTANCE_FIELD_INFO)


def new_master_key() -> bytes:
    """32 random bytes from the operating system: a new instance master key."""
    return os.urandom(KEY_BYTES)


def _hkdf(secret: bytes, *, salt: bytes, info: bytes, length: int = KEY_BYTES) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def _wrapping_key(master_key: bytes) -> bytes:
    _check_key(master_key, "the master key")
    return _hkdf(master_key, salt=b"", info=_WRAPPING_KEY_INFO)


def _sealing_key(
    shared: bytes, ephemeral_public: bytes, recipient_public: bytes, context: str
) -> tuple[bytes, bytes]:
    """The one-time key and nonce of a sealed blob, bound to both public keys and context."""
    _check_context(context)
    material = _hkdf(
        shared,
        salt=ephemeral_public + recipient_public,
        info=_SEAL_INFO + b"\x00" + context.encode("utf-8"),
        length=KEY_BYTES + NONCE_BYTES,
    )
    return material[:KEY_BYTES], material[KEY_BYTES:]


def _associated_data(label: bytes, context: str) -> bytes:
    # The format byte is authenticated too; labels hold no NUL byte, so the separator keeps
    # label and context apart.
    return FORMAT_V1 + label + b"\x00" + context.encode("utf-8")


def _aead_encrypt(key: bytes, plaintext: bytes, *, label: bytes, context: str) -> bytes:
    _check_key(key, "an encryption key")
    _check_context(context)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _associated_data(label, context))
    return FORMAT_V1 + nonce + ciphertext


def _aead_decrypt(key: bytes, blob: bytes, *, label: bytes, context: str) -> bytes:
    _check_key(key, "a decryption key")
    _check_context(context)
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
        raise CannotDecrypt("too short to be an encrypted blob")
    if blob[:1] != FORMAT_V1:
        raise CannotDecrypt("unknown format version")
    nonce, ciphertext = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _associated_data(label, context))
    except InvalidTag:
        raise CannotDecrypt("wrong key or context, or altered") from None


def _public_key(raw: bytes) -> X25519PublicKey:
    if len(raw) != KEY_BYTES:
        raise ValueError("an X25519 public key is 32 bytes")
    return X25519PublicKey.from_public_bytes(raw)


def _check_key(key: bytes, what: str) -> None:
    # A wrong-length key is a programming error, not a forged blob: say so plainly.
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} bytes")


def _check_context(context: str) -> None:
    # An empty context would bind nothing: every caller must say what the data is.
    if not context:
        raise ValueError("a context naming the data is required")
