"""Time what encryption at rest (issue 15) will add: the crypto helpers alone, no app.

- Reading a letter on its tracking page: derive the keys from the token, then decrypt a
  typical letter (a 3 KB body and a signature). Budget (DESIGN.md): a few milliseconds a
  request at most.
- A reply scan of 2 MB: sealing it to the letter's public key when it arrives, opening it
  with the private key when the writer looks.
- Wrapping and unwrapping a letter key with the master key (a drive's print run unwraps one
  per letter).

Run: .venv/bin/python bench/crypto.py [N]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.privacy.crypto import (  # noqa: E402
    decrypt_field,
    encrypt_field,
    letter_keys,
    new_master_key,
    open_sealed,
    seal,
    unwrap_key,
    wrap_key,
)
from app.tokens import new_tracking_token  # noqa: E402

SENTENCE = "Пишу тебе из Тбилиси, где уже совсем тепло, и все мы тебя помним. "
BODY = (SENTENCE * 30).encode()[:3000].decode("utf-8", "ignore")
BODY += " " * (3000 - len(BODY.encode()))  # 3,000 bytes of Cyrillic
SIGNATURE = "Мария Иванова, Тбилиси"
SCAN_BYTES = 2 * 1024 * 1024
BUDGET_MS = 5.0  # "a few milliseconds a request"


def _median_ms(action: Callable[[], object], runs: int) -> tuple[float, float]:
    action()  # warm: first-use imports and OpenSSL setup are not per-request costs
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    token = new_tracking_token()
    keys = letter_keys(token)
    body = encrypt_field(keys.content_key, BODY, context="letter:body")
    signature = encrypt_field(keys.content_key, SIGNATURE, context="letter:signature")

    def read_letter() -> None:
        derived = letter_keys(token)
        decrypt_field(derived.content_key, body, context="letter:body")
        decrypt_field(derived.content_key, signature, context="letter:signature")

    def write_letter() -> None:
        derived = letter_keys(token)
        encrypt_field(derived.content_key, BODY, context="letter:body")
        encrypt_field(derived.content_key, SIGNATURE, context="letter:signature")

    scan = os.urandom(SCAN_BYTES)
    sealed = seal(keys.public_key, scan, context="reply:1:scan")
    master = new_master_key()
    wrapped = wrap_key(master, keys.content_key, context="letter:1")

    def seal_scan() -> None:
        seal(keys.public_key, scan, context="reply:1:scan")

    def open_scan() -> None:
        open_sealed(keys.private_key, sealed, context="reply:1:scan")

    def wrap() -> None:
        wrap_key(master, keys.content_key, context="letter:1")

    def unwrap() -> None:
        unwrap_key(master, wrapped, context="letter:1")

    print(f"crypto ({runs} runs each; body {len(BODY.encode())} bytes, scan {SCAN_BYTES} bytes)")
    read = _median_ms(read_letter, runs)
    for name, action, count in (
        ("derive keys + decrypt body and signature", read_letter, runs),
        ("derive keys + encrypt body and signature", write_letter, runs),
        ("derive keys alone", lambda: letter_keys(token), runs),
        ("seal a 2 MB scan", seal_scan, 30),
        ("open a 2 MB scan", open_scan, 30),
        ("wrap a letter key", wrap, runs),
        ("unwrap a letter key", unwrap, runs),
    ):
        median, p95 = read if action is read_letter else _median_ms(action, count)
        print(f"  {name:<42} median {median:7.3f} ms   p95 {p95:7.3f} ms")
    verdict = "met" if read[0] <= BUDGET_MS else "MISSED"
    print(f"  reading a letter: budget {BUDGET_MS:.0f} ms, {verdict}")


if __name__ == "__main__":
    main()
