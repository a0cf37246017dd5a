"""Tests of the storage crypto primitives."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import crypto
from storage.crypto import DecryptionError, KeyUnwrapError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
AAD = crypto.aad("tips", 7, "body")


@given(plaintext=st.binary(max_size=4096), key_id=st.integers(1, crypto.MAX_KEY_ID))
def test_round_trip_random_bytes(plaintext: bytes, key_id: int) -> None:
    blob = crypto.encrypt(KEY, key_id, plaintext, AAD)
    assert len(blob) == len(plaintext) + crypto.SEALED_OVERHEAD
    assert crypto.sealed_key_id(blob) == key_id
    assert crypto.decrypt(KEY, blob, AAD) == plaintext


def test_layout_has_version_and_key_id() -> None:
    blob = crypto.encrypt(KEY, 0x01020304, b"x", AAD)
    assert blob[0] == crypto.SEALED_VERSION
    assert blob[1:5] == b"\x01\x02\x03\x04"


def test_nonces_are_random() -> None:
    assert crypto.encrypt(KEY, 1, b"same", AAD) != crypto.encrypt(KEY, 1, b"same", AAD)


def test_every_flipped_byte_fails() -> None:
    blob = crypto.encrypt(KEY, 1, b"the shop behind the market", AAD)
    for index in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= bit
            with pytest.raises(DecryptionError):
                crypto.decrypt(KEY, bytes(tampered), AAD)


def test_truncated_and_garbage_fail() -> None:
    blob = crypto.encrypt(KEY, 1, b"abc", AAD)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            crypto.decrypt(KEY, blob[:cut], AAD)
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, blob + b"\x00", AAD)


@pytest.mark.parametrize(
    "other",
    [
        ("tipz", 7, "body"),
        ("tips", 8, "body"),
        ("tips", "7x", "body"),
        ("tips", 7, "notes"),
    ],
)
def test_wrong_place_fails(other: tuple[str, int | str, str]) -> None:
    blob = crypto.encrypt(KEY, 1, b"secret", AAD)
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, blob, crypto.aad(*other))


def test_wrong_key_fails() -> None:
    blob = crypto.encrypt(KEY, 1, b"secret", AAD)
    with pytest.raises(DecryptionError):
        crypto.decrypt(OTHER_KEY, blob, AAD)


def test_aad_is_unambiguous() -> None:
    # Naive concatenation would make these equal.
    assert crypto.aad("ab", "c", "d") != crypto.aad("a", "bc", "d")
    assert crypto.aad("a", "b|c", "d") != crypto.aad("a|b", "c", "d")
    # An integer row and its decimal text name the same row, on purpose.
    assert crypto.aad("t", 5, "f") == crypto.aad("t", "5", "f")


def test_aad_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        crypto.aad("t", True, "f")
    with pytest.raises(ValueError):
        crypto.aad("", 1, "f")


def test_unknown_version_is_rejected() -> None:
    blob = bytearray(crypto.encrypt(KEY, 1, b"x", AAD))
    blob[0] = 99
    with pytest.raises(DecryptionError, match="version"):
        crypto.sealed_key_id(bytes(blob))


def test_bad_key_lengths_and_ids() -> None:
    with pytest.raises(ValueError):
        crypto.encrypt(b"short", 1, b"x", AAD)
    for bad_id in (0, -1, crypto.MAX_KEY_ID + 1, True):
        with pytest.raises(ValueError):
            crypto.encrypt(KEY, bad_id, b"x", AAD)


def test_wrap_round_trip_and_binding() -> None:
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap_key(KEY, data_key, "content", 3)
    assert len(wrapped) == crypto.WRAPPED_BYTES
    assert crypto.unwrap_key(KEY, wrapped, "content", 3) == data_key
    with pytest.raises(KeyUnwrapError):
        crypto.unwrap_key(OTHER_KEY, wrapped, "content", 3)
    with pytest.raises(KeyUnwrapError):
        crypto.unwrap_key(KEY, wrapped, "receipt", 3)
    with pytest.raises(KeyUnwrapError):
        crypto.unwrap_key(KEY, wrapped, "content", 4)
    tampered = bytearray(wrapped)
    tampered[-1] ^= 1
    with pytest.raises(KeyUnwrapError):
        crypto.unwrap_key(KEY, bytes(tampered), "content", 3)
    with pytest.raises(KeyUnwrapError):
        crypto.unwrap_key(KEY, wrapped[:-1], "content", 3)


def test_unwrap_error_is_a_decryption_error() -> None:
    assert issubclass(KeyUnwrapError, DecryptionError)


def test_wrapped_key_is_not_a_content_ciphertext() -> None:
    """Domain separation: the two AES-GCM uses cannot stand in for each other."""
    wrapped = crypto.wrap_key(KEY, crypto.new_data_key(), "content", 1)
    fake = struct.pack(">BI", crypto.SEALED_VERSION, 1) + wrapped[1:]
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, fake, AAD)


def test_pseudonym_is_keyed_and_stable() -> None:
    first = crypto.pseudonym(KEY, 123456789)
    assert first == crypto.pseudonym(KEY, 123456789)
    assert first == crypto.pseudonym(KEY, "123456789")
    assert len(first) == 32
    assert first != crypto.pseudonym(OTHER_KEY, 123456789)
    assert first != crypto.pseudonym(KEY, 123456790)
    with pytest.raises(TypeError):
        crypto.pseudonym(KEY, True)
    with pytest.raises(ValueError):
        crypto.pseudonym(b"", 1)


@given(st.integers(-(2**63), 2**63), st.integers(-(2**63), 2**63))
def test_pseudonym_distinguishes_ids(a: int, b: int) -> None:
    assert (crypto.pseudonym(KEY, a) == crypto.pseudonym(KEY, b)) == (a == b)


def test_error_messages_do_not_leak_plaintext() -> None:
    blob = bytearray(crypto.encrypt(KEY, 1, b"Nguyen Van A sells drugs", AAD))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError) as info:
        crypto.decrypt(KEY, bytes(blob), AAD)
    assert "Nguyen" not in str(info.value)
    assert KEY.hex() not in str(info.value)
