"""Cryptographic primitives for Tipline's storage: pure functions, no I/O, no logging.

Why these choices:

* AES-256-GCM with a random 96-bit nonce per message. Each content key encrypts far fewer
  than 2**32 messages in this project's lifetime, so random nonces stay well inside the
  collision bound.
* Every ciphertext is bound to *where* it is stored through associated data built by
  :func:`aad` from (table, row, field). Someone with write access to the database file who
  copies the ciphertext of one tip's text into another row or column gets a decryption
  error instead of a silently swapped plaintext.
* Every ciphertext carries a format version and the id of the content key that made it, so
  content keys can be replaced later while old rows stay readable.
* Pseudonyms of Telegram ids are *keyed* HMACs: a plain hash of a small integer is reversed
  by enumerating all ids, which would unmask a resident.

Ciphertext layout (``SEALED_VERSION`` = 1)::

    version (1 byte) | key_id (4 bytes, big endian) | nonce (12 bytes) | ciphertext + tag (16)

The 5-byte header is itself part of the associated data, so it cannot be edited either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
SEALED_VERSION = 1
WRAPPED_VERSION = 1
MAX_KEY_ID = 2**32 - 1

_HEADER = struct.Struct(">BI")  # version, key_id
_HEADER_BYTES = _HEADER.size
SEALED_OVERHEAD = _HEADER_BYTES + NONCE_BYTES + TAG_BYTES
WRAPPED_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES

# Distinct prefixes keep the associated data of the two uses of AES-GCM apart, so a wrapped
# key can never be mistaken for a content ciphertext or the other way round.
_AAD_CONTENT_PREFIX = b"tipline/content/v1"
_AAD_WRAP_PREFIX = b"tipline/data-key/v1"


class DecryptionError(Exception):
    """A ciphertext failed authentication or is malformed.

    Deliberately says nothing about which: the caller can do nothing different, and the
    message must never contain key material or plaintext.
    """


class KeyUnwrapError(DecryptionError):
    """A wrapped data key did not open with the given master key (or was damaged)."""


def _check_key(key: bytes, what: str) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be exactly {KEY_BYTES} bytes")


def _check_key_id(key_id: int) -> None:
    if isinstance(key_id, bool) or not isinstance(key_id, int) or not 0 < key_id <= MAX_KEY_ID:
        raise ValueError(f"key id must be an integer between 1 and {MAX_KEY_ID}")


def _length_prefixed(*parts: bytes) -> bytes:
    """Join parts so that no two different tuples give the same bytes (no separator tricks)."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def aad(table: str, row: str | int, field: str) -> bytes:
    """Canonical associated data naming where a ciphertext lives.

    ``row`` is compared as text, so the integer 7 and the string "7" name the same row; this
    keeps callers free to pass an SQLite rowid either way.
    """
    if isinstance(row, bool) or not isinstance(row, int | str):
        raise TypeError("row must be an int or a str")
    if not table or not field:
        raise ValueError("table and field must be non-empty")
    return _length_prefixed(
        _AAD_CONTENT_PREFIX,
        table.encode("utf-8"),
        str(row).encode("utf-8"),
        field.encode("utf-8"),
    )


def encrypt(key: bytes, key_id: int, plaintext: bytes, associated_data: bytes) -> bytes:
    """Seal ``plaintext`` with AES-256-GCM under ``key`` into the versioned layout."""
    _check_key(key, "content key")
    _check_key_id(key_id)
    header = _HEADER.pack(SEALED_VERSION, key_id)
    nonce = _random_nonce()
    sealed = AESGCM(bytes(key)).encrypt(nonce, bytes(plaintext), header + associated_data)
    return header + nonce + sealed


def sealed_key_id(blob: bytes) -> int:
    """Read the key id from a ciphertext's header so the right key can be chosen."""
    if not isinstance(blob, bytes | bytearray | memoryview) or len(blob) < SEALED_OVERHEAD:
        raise DecryptionError("ciphertext is too short or not bytes")
    version, key_id = _HEADER.unpack_from(bytes(blob[:_HEADER_BYTES]))
    if version != SEALED_VERSION:
        raise DecryptionError(f"unknown ciphertext format version {version}")
    return int(key_id)


def decrypt(key: bytes, blob: bytes, associated_data: bytes) -> bytes:
    """Open a ciphertext made by :func:`encrypt`; raise :class:`DecryptionError` otherwise."""
    _check_key(key, "content key")
    blob = bytes(blob)
    sealed_key_id(blob)  # validates length and version
    header = blob[:_HEADER_BYTES]
    nonce = blob[_HEADER_BYTES : _HEADER_BYTES + NONCE_BYTES]
    sealed = blob[_HEADER_BYTES + NONCE_BYTES :]
    try:
        return AESGCM(bytes(key)).decrypt(nonce, sealed, header + associated_data)
    except InvalidTag:
        raise DecryptionError(
            "ciphertext failed authentication (wrong key, wrong place, or tampered)"
        ) from None


def _wrap_aad(purpose: str, key_id: int) -> bytes:
    return _length_prefixed(
        _AAD_WRAP_PREFIX,
        bytes([WRAPPED_VERSION]),
        purpose.encode("utf-8"),
        str(key_id).encode("ascii"),
    )


def wrap_key(master_key: bytes, data_key: bytes, purpose: str, key_id: int) -> bytes:
    """Encrypt a data key under the master key.

    The purpose and key id are associated data, so a wrapped key cannot be moved to another
    row or relabelled (e.g. an HMAC key presented as the content key).
    Layout: version (1) | nonce (12) | wrapped key + tag (48).
    """
    _check_key(master_key, "master key")
    _check_key(data_key, "data key")
    _check_key_id(key_id)
    nonce = _random_nonce()
    sealed = AESGCM(bytes(master_key)).encrypt(nonce, bytes(data_key), _wrap_aad(purpose, key_id))
    return bytes([WRAPPED_VERSION]) + nonce + sealed


def unwrap_key(master_key: bytes, wrapped: bytes, purpose: str, key_id: int) -> bytes:
    """Recover a data key; :class:`KeyUnwrapError` if the master key is wrong or data damaged."""
    _check_key(master_key, "master key")
    _check_key_id(key_id)
    wrapped = bytes(wrapped)
    if len(wrapped) != WRAPPED_BYTES or wrapped[0] != WRAPPED_VERSION:
        raise KeyUnwrapError("wrapped data key is malformed")
    nonce = wrapped[1 : 1 + NONCE_BYTES]
    sealed = wrapped[1 + NONCE_BYTES :]
    try:
        data_key = AESGCM(bytes(master_key)).decrypt(nonce, sealed, _wrap_aad(purpose, key_id))
    except InvalidTag:
        raise KeyUnwrapError("wrapped data key failed authentication") from None
    return data_key


def pseudonym(key: bytes, value: int | str) -> bytes:
    """Keyed HMAC-SHA256 of an identifier (32 bytes), stable for a given key.

    Integers are hashed as their decimal text, so 42 and "42" give the same pseudonym; this
    avoids two spellings of one Telegram id slipping past a rate limit.
    """
    _check_key(key, "pseudonym key")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError("pseudonym value must be an int or a str")
    return hmac.new(bytes(key), str(value).encode("utf-8"), hashlib.sha256).digest()


def new_data_key() -> bytes:
    """A fresh random 256-bit key from the operating system's CSPRNG."""
    return secrets.token_bytes(KEY_BYTES)


def _random_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)
