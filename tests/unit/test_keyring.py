"""Tests of the keyring: data keys, master key handling, encryption and pseudonyms."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.crypto import DecryptionError
from storage.database import Database, open_database
from storage.keyring import (
    HMAC_PURPOSES,
    KeyPurpose,
    Keyring,
    KeyringError,
    WrongMasterKeyError,
    add_content_key,
    generate_master_key,
    load_keyring,
    parse_master_key,
    rotate_master_key,
)
from storage.receipt_codes import new_receipt_code, normalise_receipt_code

MASTER = bytes(range(32))
OTHER_MASTER = bytes(range(100, 132))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "tipline.db")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def keyring(db: Database) -> Keyring:
    return await load_keyring(db, MASTER)


async def test_fresh_database_gets_one_key_per_purpose(db: Database) -> None:
    await load_keyring(db, MASTER)
    rows = await db.fetchall("SELECT purpose, wrapped, retired_at FROM data_keys")
    assert sorted(r["purpose"] for r in rows) == sorted(p.value for p in KeyPurpose)
    assert all(r["retired_at"] is None for r in rows)
    assert len({bytes(r["wrapped"]) for r in rows}) == len(rows)


async def test_reload_gives_the_same_keys(db: Database, keyring: Keyring) -> None:
    blob = keyring.encrypt("hello", "tips", 1, "body")
    again = await load_keyring(db, MASTER)
    assert again.decrypt_text(blob, "tips", 1, "body") == "hello"
    assert again.pseudonym(KeyPurpose.RATELIMIT, 42) == keyring.pseudonym("ratelimit", 42)
    assert (await db.fetchone("SELECT count(*) FROM data_keys"))[0] == len(KeyPurpose)


async def test_wrong_master_key_is_refused_clearly(db: Database, keyring: Keyring) -> None:
    with pytest.raises(WrongMasterKeyError) as info:
        await load_keyring(db, OTHER_MASTER)
    message = str(info.value)
    assert "TIPBOT_KEY does not open this database" in message
    assert "another master key" in message
    assert OTHER_MASTER.hex() not in message
    assert isinstance(info.value, KeyringError)


async def test_damaged_key_is_not_called_a_wrong_master(db: Database, keyring: Keyring) -> None:
    await db.execute(
        "UPDATE data_keys SET wrapped = zeroblob(61) WHERE purpose = ?", ("subscriber",)
    )
    with pytest.raises(KeyringError, match="damaged") as info:
        await load_keyring(db, MASTER)
    assert not isinstance(info.value, WrongMasterKeyError)


async def test_wrapped_key_moved_to_other_purpose_fails(db: Database, keyring: Keyring) -> None:
    rows = await db.fetchall("SELECT key_id, purpose, wrapped FROM data_keys")
    by_purpose = {r["purpose"]: r for r in rows}
    # Swap the content key's wrapped blob into the receipt row.
    await db.execute(
        "UPDATE data_keys SET wrapped = ? WHERE key_id = ?",
        (by_purpose["content"]["wrapped"], by_purpose["receipt"]["key_id"]),
    )
    with pytest.raises(KeyringError):
        await load_keyring(db, MASTER)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(text=st.text(max_size=500), data=st.binary(max_size=500), row=st.integers(1, 2**40))
def test_round_trips(keyring: Keyring, text: str, data: bytes, row: int) -> None:
    blob = keyring.encrypt(text, "tips", row, "body")
    assert keyring.decrypt_text(blob, "tips", row, "body") == text
    assert keyring.decrypt(keyring.encrypt(data, "t", str(row), "f"), "t", str(row), "f") == data


async def test_ciphertext_bound_to_its_place(keyring: Keyring) -> None:
    blob = keyring.encrypt(b"tip", "tips", 5, "body")
    for place in (("tips", 6, "body"), ("tips", 5, "location"), ("drafts", 5, "body")):
        with pytest.raises(DecryptionError):
            keyring.decrypt(blob, *place)


async def test_flipped_byte_fails(keyring: Keyring) -> None:
    blob = keyring.encrypt(b"tip text", "tips", 5, "body")
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x04
        with pytest.raises(DecryptionError):
            keyring.decrypt(bytes(tampered), "tips", 5, "body")


async def test_decrypt_text_rejects_non_utf8(keyring: Keyring) -> None:
    blob = keyring.encrypt(b"\xff\xfe", "t", 1, "f")
    with pytest.raises(DecryptionError):
        keyring.decrypt_text(blob, "t", 1, "f")


async def test_pseudonyms_differ_per_purpose_and_are_stable(keyring: Keyring) -> None:
    values = {purpose: keyring.pseudonym(purpose, 123456789) for purpose in HMAC_PURPOSES}
    assert len(set(values.values())) == len(HMAC_PURPOSES)
    for purpose, value in values.items():
        assert keyring.pseudonym(purpose, 123456789) == value
        assert keyring.pseudonym(purpose.value, "123456789") == value
        assert len(value) == 32
    assert keyring.pseudonym("ratelimit", 1) != keyring.pseudonym("ratelimit", 2)
    with pytest.raises(ValueError):
        keyring.pseudonym(KeyPurpose.CONTENT, 1)
    with pytest.raises(ValueError):
        keyring.pseudonym("nonsense", 1)


async def test_receipt_hash(keyring: Keyring) -> None:
    code = new_receipt_code()
    typed = normalise_receipt_code(code.lower().replace("-", " "))
    assert typed is not None
    assert keyring.receipt_hash(typed) == keyring.receipt_hash(code)
    assert keyring.receipt_hash(code) != keyring.pseudonym(KeyPurpose.SUBSCRIBER, code)
    with pytest.raises(ValueError):
        keyring.receipt_hash(code.lower())


async def test_separate_databases_have_separate_keys(tmp_path: Path, keyring: Keyring) -> None:
    other_db = await open_database(tmp_path / "other.db")
    other = await load_keyring(other_db, MASTER)
    await other_db.close()
    assert other.pseudonym("ratelimit", 7) != keyring.pseudonym("ratelimit", 7)
    with pytest.raises(DecryptionError):
        other.decrypt(keyring.encrypt(b"x", "t", 1, "f"), "t", 1, "f")


async def test_master_key_rotation(db: Database, keyring: Keyring) -> None:
    code = new_receipt_code()
    receipt = keyring.receipt_hash(code)
    blob = keyring.encrypt("the tip", "tips", 9, "body")
    nym = keyring.pseudonym("conversation", 555)

    assert await rotate_master_key(db, MASTER, OTHER_MASTER) == len(KeyPurpose)

    rotated = await load_keyring(db, OTHER_MASTER)
    assert rotated.decrypt_text(blob, "tips", 9, "body") == "the tip"
    assert rotated.receipt_hash(code) == receipt
    assert rotated.pseudonym("conversation", 555) == nym
    with pytest.raises(WrongMasterKeyError):
        await load_keyring(db, MASTER)
    with pytest.raises(WrongMasterKeyError):
        await rotate_master_key(db, MASTER, bytes(32))


async def test_rotation_with_wrong_old_key_changes_nothing(db: Database, keyring: Keyring) -> None:
    before = [bytes(r[0]) for r in await db.fetchall("SELECT wrapped FROM data_keys")]
    with pytest.raises(WrongMasterKeyError):
        await rotate_master_key(db, OTHER_MASTER, bytes(32))
    after = [bytes(r[0]) for r in await db.fetchall("SELECT wrapped FROM data_keys")]
    assert before == after
    await load_keyring(db, MASTER)


async def test_rotation_refuses_same_key_and_empty_db(db: Database) -> None:
    with pytest.raises(ValueError):
        await rotate_master_key(db, MASTER, MASTER)
    with pytest.raises(KeyringError):
        await rotate_master_key(db, MASTER, OTHER_MASTER)


async def test_second_content_key_still_decrypts_old(db: Database, keyring: Keyring) -> None:
    old_blob = keyring.encrypt("old tip", "tips", 1, "body")
    old_id = keyring.active_content_key_id
    receipt = keyring.receipt_hash("K7QM-4XPA-9TZD")

    new_id = await add_content_key(db, MASTER)
    assert new_id != old_id

    reloaded = await load_keyring(db, MASTER)
    assert reloaded.active_content_key_id == new_id
    assert reloaded.can_decrypt_key_id(old_id)
    new_blob = reloaded.encrypt("new tip", "tips", 2, "body")
    assert new_blob[1:5] == new_id.to_bytes(4, "big")
    assert reloaded.decrypt_text(old_blob, "tips", 1, "body") == "old tip"
    assert reloaded.decrypt_text(new_blob, "tips", 2, "body") == "new tip"
    assert reloaded.receipt_hash("K7QM-4XPA-9TZD") == receipt
    # The old, not reloaded keyring lacks the new key and says so.
    with pytest.raises(DecryptionError):
        keyring.decrypt(new_blob, "tips", 2, "body")

    retired = await db.fetchone("SELECT retired_at FROM data_keys WHERE key_id = ?", (old_id,))
    assert retired is not None and retired["retired_at"] is not None

    # Rotation afterwards re-wraps retired keys too.
    await rotate_master_key(db, MASTER, OTHER_MASTER)
    after = await load_keyring(db, OTHER_MASTER)
    assert after.decrypt_text(old_blob, "tips", 1, "body") == "old tip"


async def test_add_content_key_checks_master(db: Database, keyring: Keyring) -> None:
    with pytest.raises(WrongMasterKeyError):
        await add_content_key(db, OTHER_MASTER)
    assert (await db.fetchone("SELECT count(*) FROM data_keys"))[0] == len(KeyPurpose)


async def test_plaintext_not_in_database_file(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    db = await open_database(path)
    keyring = await load_keyring(db, MASTER)
    secret = "Nguyen Van Secretname sells at 12 Hang Bac street"
    await db.execute("CREATE TABLE probe (probe_id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
    await db.execute(
        "INSERT INTO probe (probe_id, body) VALUES (?, ?)",
        (1, keyring.encrypt(secret, "probe", 1, "body")),
    )
    row = await db.fetchone("SELECT body FROM probe WHERE probe_id = ?", (1,))
    assert row is not None
    assert keyring.decrypt_text(row["body"], "probe", 1, "body") == secret
    await db.close()

    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("plain.db"))
    assert b"Secretname" not in raw
    assert secret.encode() not in raw
    assert MASTER not in raw


def test_keyring_repr_hides_keys(keyring: Keyring) -> None:
    text = repr(keyring)
    assert "content_keys" in text
    for purpose in HMAC_PURPOSES:
        assert keyring._hmac_keys[purpose].hex() not in text


def test_parse_and_generate_master_key() -> None:
    text = generate_master_key()
    key = parse_master_key(text)
    assert len(key) == 32
    assert parse_master_key(f"  {text}\n") == key
    assert parse_master_key(base64.urlsafe_b64encode(key).decode()) == key
    assert generate_master_key() != text


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("not base64!!", "not valid base64"),
        (base64.b64encode(bytes(16)).decode(), "exactly 32 bytes"),
        (base64.b64encode(bytes(33)).decode(), "exactly 32 bytes"),
        (base64.b64encode(bytes(32)).decode()[:-2], "base64"),
    ],
)
def test_parse_master_key_rejects(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match) as info:
        parse_master_key(text)
    assert "TIPBOT_KEY" in str(info.value)
    if text.strip():
        assert text not in str(info.value)


async def test_load_rejects_bad_master_key_type(db: Database) -> None:
    with pytest.raises(ValueError):
        await load_keyring(db, b"short")
    with pytest.raises(ValueError):
        await load_keyring(db, generate_master_key().encode())  # base64 text, not raw bytes
