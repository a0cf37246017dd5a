"""Crypto throughput: the keyring's encrypt/decrypt and pseudonyms against raw primitives.

In one process, no I/O. A typical tip document (the JSON that storage/tips.py encrypts, about
1 KiB of UTF-8 with Vietnamese text) is sealed with `Keyring.encrypt(doc, "tips", ref,
"content")` and opened with `Keyring.decrypt`; the baseline is `cryptography`'s AESGCM on the
same bytes, the AESGCM object made once, a fresh 12-byte nonce per call and no associated
data. The ratio is the cost of Tipline's framing: the AAD built from (table, row, field), the
5-byte header, the key checks, and a new AESGCM object per call (shown on its own too).
`Keyring.pseudonym(purpose, user_id)` is compared with `hmac.new(key, id, sha256).digest()`.

Each figure is the best of 7 rounds of ~0.1 s; the measurements take turns within a round
(bounded in count and time: about 10 s in all).

    python -m bench.crypto_throughput [--rounds 7] [--round-seconds 0.1] [--size 1024]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.common import Report, arguments
from storage import crypto
from storage.keyring import HMAC_PURPOSES, KeyPurpose, Keyring

KEY_ID = 1
REF = "T-7K3M9Q"
USER_ID = 5_123_456_789


def tip_content(size: int = 1024, tag: str = "") -> dict[str, object]:
    """The content of a tip as handlers/resident/report.py builds it (text, no files), its
    JSON about `size` bytes."""
    content: dict[str, object] = {
        "place": "cầu treo thôn 2, xã Hồng Vân",
        "location": None,
        "when": "today",
        "text": tag,
        "attachments": [],
        "language": "vi",
    }
    sentence = "Có người lạ chở gỗ ban đêm qua cầu, đi hai xe máy không biển số. "
    while len(json.dumps(content, ensure_ascii=False).encode()) + len(sentence.encode()) <= size:
        content["text"] = f"{content['text']}{sentence}"
    return content


def tip_document(size: int = 1024) -> bytes:
    """The bytes storage/tips.py encrypts for such a tip."""
    data = json.dumps(tip_content(size), ensure_ascii=False).encode()
    return (data + b" " * size)[:size]  # JSON whitespace: still the same document


def calibrate(action: Callable[[], object], seconds: float) -> int:
    """How many calls of `action` take about `seconds`."""
    batch = 1
    while True:
        started = time.perf_counter()
        for _ in range(batch):
            action()
        elapsed = time.perf_counter() - started
        if elapsed >= seconds / 10 or batch >= 1 << 20:
            return max(1, int(batch * seconds / max(elapsed, 1e-9)))
        batch *= 2


def ops_per_second(
    actions: dict[str, Callable[[], object]], rounds: int, seconds: float
) -> dict[str, float]:
    """Best of `rounds` timed rounds of about `seconds` each, per action. The actions take
    turns within each round, so a burst of load elsewhere hits them all, not one."""
    counts = {name: calibrate(action, seconds) for name, action in actions.items()}
    best = dict.fromkeys(actions, 0.0)
    for _ in range(rounds):
        for name, action in actions.items():
            count = counts[name]
            started = time.perf_counter()
            for _ in range(count):
                action()
            best[name] = max(best[name], count / (time.perf_counter() - started))
    return best


def main(argv: list[str] | None = None) -> Report:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--round-seconds", type=float, default=0.1)
    parser.add_argument("--size", type=int, default=1024, help="document bytes (default 1024)")
    args = parser.parse_args(argv)
    result = Report("crypto_throughput", summary_path=args.summary_json)
    begun = time.perf_counter()

    content_key = os.urandom(32)
    keyring = Keyring({KEY_ID: content_key}, KEY_ID,
                      {purpose: os.urandom(32) for purpose in HMAC_PURPOSES})
    hmac_key = os.urandom(32)
    keyring_hmac = Keyring({KEY_ID: content_key}, KEY_ID,
                           {purpose: hmac_key for purpose in HMAC_PURPOSES})
    document = tip_document(args.size)
    sealed = keyring.encrypt(document, "tips", REF, "content")
    assert keyring.decrypt(sealed, "tips", REF, "content") == document
    aesgcm = AESGCM(content_key)
    nonce = os.urandom(12)
    raw_sealed = aesgcm.encrypt(nonce, document, None)
    user_bytes = str(USER_ID).encode()
    assert keyring_hmac.pseudonym(KeyPurpose.SUBSCRIBER, USER_ID) == hmac.new(
        hmac_key, user_bytes, hashlib.sha256
    ).digest()

    actions: dict[str, Callable[[], object]] = {
        "keyring encrypt": lambda: keyring.encrypt(document, "tips", REF, "content"),
        "raw AESGCM encrypt": lambda: aesgcm.encrypt(os.urandom(12), document, None),
        "raw AESGCM encrypt, new AESGCM per call":
            lambda: AESGCM(content_key).encrypt(os.urandom(12), document, None),
        "keyring decrypt": lambda: keyring.decrypt(sealed, "tips", REF, "content"),
        "raw AESGCM decrypt": lambda: aesgcm.decrypt(nonce, raw_sealed, None),
        "  part: aad(table, row, field)": lambda: crypto.aad("tips", REF, "content"),
        "  part: AESGCM(key) construction": lambda: AESGCM(content_key),
        "  part: secrets.token_bytes(12)": lambda: secrets.token_bytes(12),
        "keyring pseudonym": lambda: keyring_hmac.pseudonym(KeyPurpose.SUBSCRIBER, USER_ID),
        "raw hmac.new(...).digest()":
            lambda: hmac.new(hmac_key, str(USER_ID).encode(), hashlib.sha256).digest(),
        "raw hmac.digest() (one-shot C path)":
            lambda: hmac.digest(hmac_key, str(USER_ID).encode(), "sha256"),
    }
    figures = ops_per_second(actions, args.rounds, args.round_seconds)

    result.section(f"{len(document)}-byte tip document (sealed: {len(sealed)} bytes, "
                   f"+{len(sealed) - len(document)}), best of {args.rounds} rounds")
    for name, value in figures.items():
        result.row(name, f"{value:,.0f} ops/s", f"{1e6 / value:5.2f} µs/op")
    throughput = figures["keyring encrypt"] * len(document) / 2**20
    result.row("keyring encrypt throughput", throughput, "MiB/s")
    result.ratio("encrypt: raw / keyring (overhead factor)",
                 figures["raw AESGCM encrypt"] / figures["keyring encrypt"])
    result.ratio("decrypt: raw / keyring (overhead factor)",
                 figures["raw AESGCM decrypt"] / figures["keyring decrypt"])
    result.ratio("encrypt: raw with new AESGCM per call / keyring",
                 figures["raw AESGCM encrypt, new AESGCM per call"] / figures["keyring encrypt"],
                 headline=False)
    result.ratio("pseudonym: raw hmac / keyring (overhead factor)",
                 figures["raw hmac.new(...).digest()"] / figures["keyring pseudonym"])
    result.key("keyring encrypt / decrypt / pseudonym",
               f"{figures['keyring encrypt']:,.0f} / {figures['keyring decrypt']:,.0f} / "
               f"{figures['keyring pseudonym']:,.0f} ops/s")
    result.note(f"wall time {time.perf_counter() - begun:.1f} s")
    return result


if __name__ == "__main__":
    outcome = main()
    outcome.print()
    outcome.save()
