"""The crypto helpers of privacy at rest (app/privacy/crypto.py, app/privacy/master_key.py).

Pure and fast: no app, no database. What must hold: a letter's keys come from its link and
only from it; anything altered, misplaced or read with the wrong key is refused with
CannotDecrypt, never returned as garbage; sealed data opens only with the letter's private key.
"""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from app.privacy.crypto import (
    FORMAT_V1,
    NONCE_BYTES,
    TAG_BYTES,
    CannotDecrypt,
    decrypt_field,
    encrypt_field,
    letter_keys,
    new_master_key,
    open_sealed,
    seal,
    unwrap_key,
    wrap_key,
)
from app.privacy.master_key import MASTER_KEY_FILE, instance_master_key, parse_master_key
from app.tokens import new_tracking_token

TOKEN = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"  # 43 characters, like a real token
LETTER = "Дорогой Алексей!\n\nПишу тебе из Тбилиси. Держись! ✊🏽🌷\n" * 20
SIGNATURE = "Мария Иванова 🕊"


def _flip(blob: bytes, index: int) -> bytes:
    altered = bytearray(blob)
    altered[index] ^= 0x01
    return bytes(altered)


# Keys


def test_keys_are_stable_per_token_and_differ_between_tokens():
    first, again, other = letter_keys(TOKEN), letter_keys(TOKEN), letter_keys(new_tracking_token())
    assert first.content_key == again.content_key
    assert first.public_key == again.public_key
    assert len(first.content_key) == 32 and len(first.public_key) == 32
    assert first.content_key != other.content_key
    assert first.public_key != other.public_key
    # The content key and the private key are independent derivations.
    assert first.content_key != first.private_key.private_bytes_raw()


def test_tokens_differing_in_one_character_give_unrelated_keys():
    neighbour = TOKEN[:-1] + "H"
    assert letter_keys(TOKEN).content_key != letter_keys(neighbour).content_key


def test_the_keys_do_not_show_in_a_log_line():
    keys = letter_keys(TOKEN)
    assert keys.content_key.hex() not in repr(keys)
    assert repr(keys.content_key) not in repr(keys)


@pytest.mark.parametrize("token", ["", "short", TOKEN + "x", TOKEN[:-1] + "=", TOKEN[:-1] + "é"])
def test_only_a_token_shaped_value_gives_keys(token):
    with pytest.raises(ValueError):
        letter_keys(token)


# Fields


@pytest.mark.parametrize("text", [LETTER, SIGNATURE, "", "ё", "😀" * 1000])
def test_a_field_round_trips(text):
    key = letter_keys(TOKEN).content_key
    blob = encrypt_field(key, text, context="letter:body")
    assert decrypt_field(key, blob, context="letter:body") == text
    assert len(blob) == 1 + NONCE_BYTES + len(text.encode()) + TAG_BYTES


def test_the_ciphertext_shows_nothing_of_the_text():
    key = letter_keys(TOKEN).content_key
    blob = encrypt_field(key, "Мария Иванова", context="letter:signature")
    assert "Мария Иванова".encode() not in blob
    assert b"letter:signature" not in blob


def test_encrypting_twice_gives_different_blobs():
    key = letter_keys(TOKEN).content_key
    first = encrypt_field(key, LETTER, context="letter:body")
    second = encrypt_field(key, LETTER, context="letter:body")
    assert first != second
    assert first[1 : 1 + NONCE_BYTES] != second[1 : 1 + NONCE_BYTES]


def test_a_wrong_token_cannot_decrypt():
    blob = encrypt_field(letter_keys(TOKEN).content_key, LETTER, context="letter:body")
    with pytest.raises(CannotDecrypt):
        decrypt_field(letter_keys(new_tracking_token()).content_key, blob, context="letter:body")


def test_a_field_moved_to_another_context_is_refused():
    key = letter_keys(TOKEN).content_key
    blob = encrypt_field(key, SIGNATURE, context="letter:signature")
    with pytest.raises(CannotDecrypt):
        decrypt_field(key, blob, context="letter:body")


# Every position class: the version byte, the nonce, the ciphertext body, the tag.
FIELD_POSITIONS = {
    "version": [0],
    "nonce": [1, NONCE_BYTES // 2, NONCE_BYTES],
    "body": [1 + NONCE_BYTES, 1 + NONCE_BYTES + 10],
    "tag": [-TAG_BYTES, -1],
}


@pytest.mark.parametrize(
    "index", [index for indexes in FIELD_POSITIONS.values() for index in indexes]
)
def test_a_tampered_field_is_refused(index):
    key = letter_keys(TOKEN).content_key
    blob = encrypt_field(key, LETTER, context="letter:body")
    with pytest.raises(CannotDecrypt):
        decrypt_field(key, _flip(blob, index), context="letter:body")


def test_a_truncated_extended_or_unknown_version_field_is_refused():
    key = letter_keys(TOKEN).content_key
    blob = encrypt_field(key, "", context="letter:body")
    for altered in (b"", blob[:1], blob[:-1], blob + b"\x00", b"\x02" + blob[1:]):
        with pytest.raises(CannotDecrypt):
            decrypt_field(key, altered, context="letter:body")


def test_a_field_cannot_pass_for_a_wrapped_key():
    key = new_master_key()
    field = encrypt_field(key, "x" * 32, context="letter:1")
    with pytest.raises(CannotDecrypt):
        unwrap_key(key, field, context="letter:1")


def test_misuse_is_a_programming_error_not_a_decryption_failure():
    key = letter_keys(TOKEN).content_key
    with pytest.raises(ValueError):
        encrypt_field(key[:16], "text", context="letter:body")
    with pytest.raises(ValueError):
        encrypt_field(key, "text", context="")


# Sealing to a letter's public key


def test_a_sealed_blob_opens_with_the_letters_private_key_only():
    keys, other = letter_keys(TOKEN), letter_keys(new_tracking_token())
    blob = seal(keys.public_key, b"reply scan", context="reply:7:scan")
    assert open_sealed(keys.private_key, blob, context="reply:7:scan") == b"reply scan"
    with pytest.raises(CannotDecrypt):
        open_sealed(other.private_key, blob, context="reply:7:scan")
    with pytest.raises(CannotDecrypt):
        open_sealed(keys.private_key, blob, context="reply:7:translation")


def test_sealing_is_randomised():
    public_key = letter_keys(TOKEN).public_key
    first = seal(public_key, b"same", context="reply:1:scan")
    second = seal(public_key, b"same", context="reply:1:scan")
    assert first != second
    assert first[1:33] != second[1:33]  # a new ephemeral key each time


def test_a_multi_megabyte_scan_round_trips():
    keys = letter_keys(TOKEN)
    scan = bytes(range(256)) * (3 * 4096)  # 3 MiB
    blob = seal(keys.public_key, scan, context="reply:1:scan")
    assert len(blob) == 1 + 32 + len(scan) + TAG_BYTES
    assert open_sealed(keys.private_key, blob, context="reply:1:scan") == scan


def test_empty_and_unicode_data_seal():
    keys = letter_keys(TOKEN)
    for data in (b"", SIGNATURE.encode()):
        blob = seal(keys.public_key, data, context="message")
        assert open_sealed(keys.private_key, blob, context="message") == data


@pytest.mark.parametrize("index", [0, 1, 16, 32, 33, -TAG_BYTES, -1])
def test_a_tampered_sealed_blob_is_refused(index):
    # version, ephemeral public key (start, middle, end), body, tag
    keys = letter_keys(TOKEN)
    blob = seal(keys.public_key, b"translation of a reply", context="reply:1:translation")
    with pytest.raises(CannotDecrypt):
        open_sealed(keys.private_key, _flip(blob, index), context="reply:1:translation")


def test_a_forged_low_order_ephemeral_key_is_refused():
    keys = letter_keys(TOKEN)
    blob = seal(keys.public_key, b"data", context="c")
    forged = FORMAT_V1 + bytes(32) + blob[33:]  # the all-zero point: a zero shared secret
    with pytest.raises(CannotDecrypt):
        open_sealed(keys.private_key, forged, context="c")
    for short in (b"", blob[:33], blob[: 33 + TAG_BYTES - 1]):
        with pytest.raises(CannotDecrypt):
            open_sealed(keys.private_key, short, context="c")


def test_sealing_refuses_a_malformed_public_key():
    with pytest.raises(ValueError):
        seal(b"\x01" * 31, b"data", context="c")


# Wrapping letter keys with the master key


def test_a_wrapped_key_round_trips_and_needs_its_master_key_and_letter():
    master, letter_key = new_master_key(), letter_keys(TOKEN).content_key
    wrapped = wrap_key(master, letter_key, context="letter:42")
    assert letter_key not in wrapped
    assert unwrap_key(master, wrapped, context="letter:42") == letter_key
    with pytest.raises(CannotDecrypt):
        unwrap_key(new_master_key(), wrapped, context="letter:42")
    with pytest.raises(CannotDecrypt):
        unwrap_key(master, wrapped, context="letter:43")  # copied onto another letter's row
    for index in (0, 1, 1 + NONCE_BYTES, -1):
        with pytest.raises(CannotDecrypt):
            unwrap_key(master, _flip(wrapped, index), context="letter:42")


def test_the_master_key_is_not_used_directly():
    # A field encrypted with the raw master key is not a wrapped key (separate derived key).
    master, letter_key = new_master_key(), new_master_key()
    wrapped = wrap_key(master, letter_key, context="letter:1")
    with pytest.raises(CannotDecrypt):
        decrypt_field(master, wrapped, context="letter:1")


def test_master_keys_are_random():
    assert new_master_key() != new_master_key()
    assert len(new_master_key()) == 32


# The instance master key


def test_the_key_file_is_created_private_and_reused(tmp_path):
    folder = tmp_path / "instance"
    first = instance_master_key(folder, environ={})
    key_file = folder / MASTER_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(first) == 32
    assert instance_master_key(folder, environ={}) == first
    assert [path.name for path in folder.iterdir()] == [MASTER_KEY_FILE]  # no drafts left


def test_a_key_file_left_readable_by_others_is_made_private(tmp_path):
    first = instance_master_key(tmp_path, environ={})
    key_file = tmp_path / MASTER_KEY_FILE
    key_file.chmod(0o644)
    assert instance_master_key(tmp_path, environ={}) == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_the_environment_variable_wins_over_the_file(tmp_path):
    from_file = instance_master_key(tmp_path, environ={})
    shared = new_master_key()
    for written in (
        shared.hex(),
        shared.hex().upper(),
        base64.b64encode(shared).decode(),
        base64.urlsafe_b64encode(shared).decode().rstrip("="),
        f"  {shared.hex()}\n",
    ):
        key = instance_master_key(tmp_path, environ={"KONVERT_MASTER_KEY": written})
        assert key == shared != from_file


def test_the_environment_variable_spares_the_instance_folder(tmp_path):
    shared = new_master_key()
    assert instance_master_key(tmp_path, environ={"KONVERT_MASTER_KEY": shared.hex()}) == shared
    assert not (tmp_path / MASTER_KEY_FILE).exists()


def test_the_process_environment_is_read_by_default(tmp_path, monkeypatch):
    shared = new_master_key()
    monkeypatch.setenv("KONVERT_MASTER_KEY", shared.hex())
    assert instance_master_key(tmp_path) == shared


@pytest.mark.parametrize(
    "written",
    ["not-the-key", "ab" * 31, "ab" * 33, base64.b64encode(b"x" * 16).decode(), "zz" * 32],
)
def test_a_malformed_master_key_is_refused_without_being_echoed(tmp_path, written):
    with pytest.raises(ValueError) as refused:
        instance_master_key(tmp_path, environ={"KONVERT_MASTER_KEY": written})
    assert written not in str(refused.value)
    assert "KONVERT_MASTER_KEY" in str(refused.value)


def test_a_damaged_key_file_is_an_error_not_replaced(tmp_path):
    key_file = tmp_path / MASTER_KEY_FILE
    key_file.write_text("truncated\n")
    with pytest.raises(ValueError):
        instance_master_key(tmp_path, environ={})
    assert key_file.read_text() == "truncated\n"


def test_processes_starting_at_once_agree_on_one_key(tmp_path):
    code = (
        "import sys; from pathlib import Path;"
        "from app.privacy.master_key import instance_master_key;"
        "print(instance_master_key(Path(sys.argv[1]), environ={}).hex())"
    )
    repo = Path(__file__).resolve().parent.parent
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], cwd=repo, stdout=subprocess.PIPE
        )
        for _ in range(4)
    ]
    keys = {process.communicate()[0].strip() for process in processes}
    assert len(keys) == 1
    assert parse_master_key(keys.pop().decode()) == instance_master_key(tmp_path, environ={})
