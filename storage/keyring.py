"""The keyring: data keys unwrapped in memory, and the master key that guards them on disk.

Why two levels of keys: the operator's master key (``TIPBOT_KEY``, 32 bytes in base64) never
touches the database. It only wraps random *data keys* stored in ``data_keys``. So

* a stolen database file alone reveals no tip text and no resident pseudonym;
* changing the master key re-wraps a handful of rows in one instant transaction
  (:func:`rotate_master_key`) instead of re-encrypting every tip, and receipt hashes keep
  working because the HMAC data keys themselves do not change;
* each use has its own key (:class:`KeyPurpose`), so e.g. a rate-limit pseudonym cannot be
  linked to a subscriber pseudonym of the same Telegram user.

Content keys can be replaced (:func:`add_content_key`): new ciphertexts use the active key,
and older ones are opened with the key named by the id inside each ciphertext.

Nothing here logs or puts into exception messages any key, plaintext, or identifier.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import sqlite3
from collections.abc import Mapping
from enum import StrEnum

from storage import crypto
from storage.database import Database, utc_now
from storage.receipt_codes import is_canonical_receipt_code

log = logging.getLogger(__name__)

MASTER_KEY_ENV = "TIPBOT_KEY"


class KeyPurpose(StrEnum):
    """What a data key is for; the value is stored in ``data_keys.purpose``.

    To add a purpose, add a member here: :func:`load_keyring` creates the missing key the
    next time the bot starts. Never rename a value that has shipped.
    """

    CONTENT = "content"  # AES-GCM: tip texts and other sensitive fields
    RECEIPT = "receipt"  # HMAC: lookup hash of receipt codes
    RATELIMIT = "ratelimit"  # HMAC: resident pseudonyms for rate limits
    CONVERSATION = "conversation"  # HMAC: finding a resident's draft in progress
    SUBSCRIBER = "subscriber"  # HMAC: one subscription per Telegram user
    PREFERENCES = "preferences"  # HMAC: a user's chosen language
    AUDIT = "audit"  # HMAC: the audit log's hash chain (forging a link needs the master key)
    TIP_LIMIT = "tip_limit"  # HMAC: a person's tips of the day (storage/ratelimits.py), alone


ENCRYPTION_PURPOSES = frozenset({KeyPurpose.CONTENT})
HMAC_PURPOSES = frozenset(set(KeyPurpose) - ENCRYPTION_PURPOSES)


class KeyringError(Exception):
    """The stored data keys are missing, damaged, or inconsistent."""


class WrongMasterKeyError(KeyringError):
    """The master key given is not the one this database was created with."""

    def __init__(self) -> None:
        super().__init__(
            f"{MASTER_KEY_ENV} does not open this database: it was created with another "
            "master key. Start the bot with the original key (or restore the matching "
            "database); nothing in the database has been changed."
        )


class Keyring:
    """Unwrapped data keys, one per purpose, plus retired content keys for old ciphertexts.

    Build it with :func:`load_keyring`. A keyring is a snapshot: after
    :func:`add_content_key` or a new purpose, load it again to use the new key.
    """

    __slots__ = ("_active_content_id", "_content_keys", "_hmac_keys")

    def __init__(
        self,
        content_keys: Mapping[int, bytes],
        active_content_id: int,
        hmac_keys: Mapping[KeyPurpose, bytes],
    ) -> None:
        if active_content_id not in content_keys:
            raise KeyringError("the active content key is missing")
        missing = HMAC_PURPOSES - set(hmac_keys)
        if missing:
            raise KeyringError(f"missing HMAC keys: {sorted(missing)}")
        self._content_keys = dict(content_keys)
        self._active_content_id = active_content_id
        self._hmac_keys = dict(hmac_keys)

    def __repr__(self) -> str:
        # Key ids only: a repr ends up in logs and tracebacks.
        return (
            f"Keyring(active_content_key={self._active_content_id}, "
            f"content_keys={sorted(self._content_keys)}, "
            f"hmac_purposes={sorted(str(p) for p in self._hmac_keys)})"
        )

    @property
    def active_content_key_id(self) -> int:
        """Id of the content key new ciphertexts are made with."""
        return self._active_content_id

    def encrypt(self, plaintext: bytes | str, table: str, row: str | int, field: str) -> bytes:
        """Encrypt for storage in ``table``.``field`` of ``row`` (str is encoded as UTF-8).

        The ciphertext only decrypts with the same (table, row, field), so the row id must be
        known before encrypting (e.g. a random id, or insert first and update the field).
        """
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
        key_id = self._active_content_id
        return crypto.encrypt(
            self._content_keys[key_id], key_id, data, crypto.aad(table, row, field)
        )

    def decrypt(self, blob: bytes, table: str, row: str | int, field: str) -> bytes:
        """Decrypt a value from ``table``.``field`` of ``row``; :class:`DecryptionError` if it
        was tampered with, moved, or made with a key this keyring does not hold."""
        key = self._content_keys.get(crypto.sealed_key_id(blob))
        if key is None:
            raise crypto.DecryptionError("ciphertext names a content key this keyring lacks")
        return crypto.decrypt(key, blob, crypto.aad(table, row, field))

    def decrypt_text(self, blob: bytes, table: str, row: str | int, field: str) -> str:
        """:meth:`decrypt` and decode UTF-8."""
        try:
            return self.decrypt(blob, table, row, field).decode("utf-8")
        except UnicodeDecodeError:
            raise crypto.DecryptionError("decrypted value is not UTF-8 text") from None

    @property
    def content_key_ids(self) -> tuple[int, ...]:
        """Ids of every content key held (the active one and retired ones still kept)."""
        return tuple(sorted(self._content_keys))

    def adopt(self, other: Keyring) -> None:
        """Take `other`'s keys in place: every storage object sharing this keyring uses them
        from now on (a running bot picking up a new content key, storage/rotation.py)."""
        self._content_keys = dict(other._content_keys)
        self._active_content_id = other._active_content_id
        self._hmac_keys = dict(other._hmac_keys)

    def can_decrypt_key_id(self, key_id: int) -> bool:
        """Whether a ciphertext made with ``key_id`` can be opened (for re-encryption jobs)."""
        return key_id in self._content_keys

    def pseudonym(self, purpose: KeyPurpose | str, value: int | str) -> bytes:
        """Stable keyed pseudonym (32 bytes) of an id for one purpose; differs per purpose."""
        purpose = KeyPurpose(purpose)
        if purpose not in HMAC_PURPOSES:
            raise ValueError(f"{purpose} keys are for encryption, not pseudonyms")
        return crypto.pseudonym(self._hmac_keys[purpose], value)

    def receipt_hash(self, normalised_code: str) -> bytes:
        """Lookup hash of a receipt code; pass the output of ``normalise_receipt_code``.

        Refuses non-canonical input, because hashing a raw spelling would make a correct code
        typed in lower case silently find nothing.
        """
        if not is_canonical_receipt_code(normalised_code):
            raise ValueError("receipt_hash needs a normalised receipt code (XXXX-XXXX-XXXX)")
        return crypto.pseudonym(self._hmac_keys[KeyPurpose.RECEIPT], normalised_code)


def parse_master_key(text: str) -> bytes:
    """Decode ``TIPBOT_KEY``: base64 (standard or URL-safe) of exactly 32 bytes.

    Error messages never echo the text, since it may be a nearly-right key.
    """
    if not isinstance(text, str):
        raise ValueError(f"{MASTER_KEY_ENV} must be text (base64)")
    cleaned = "".join(text.split())
    if not cleaned:
        raise ValueError(
            f"{MASTER_KEY_ENV} is empty; generate one with generate_master_key() and keep it safe"
        )
    standard = cleaned.replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{MASTER_KEY_ENV} is not valid base64") from None
    if len(key) != crypto.KEY_BYTES:
        raise ValueError(
            f"{MASTER_KEY_ENV} must be base64 of exactly {crypto.KEY_BYTES} bytes, "
            f"but it decodes to {len(key)} bytes"
        )
    return key


def generate_master_key() -> str:
    """A new random master key as base64 text, suitable for ``TIPBOT_KEY``."""
    return base64.b64encode(secrets.token_bytes(crypto.KEY_BYTES)).decode("ascii")


async def load_keyring(db: Database, master_key: bytes) -> Keyring:
    """Unwrap the data keys; on a fresh database (or for a new purpose) create them first.

    Raises :class:`WrongMasterKeyError` if ``master_key`` is not the one the keys were
    wrapped with (detected by AES-GCM authentication). Creation happens in one BEGIN
    IMMEDIATE transaction that re-reads the table, so two processes starting on the same
    new file end up with the same keys.
    """
    _check_master(master_key)
    rows = await _read_keys(db)
    if _missing_purposes(rows):
        async with db.transaction():
            rows = await _read_keys(db)
            _unwrap_all(rows, master_key)  # a wrong master key fails before anything is added
            for purpose in _missing_purposes(rows):
                await _insert_key(db, master_key, purpose)
            rows = await _read_keys(db)
    return _build_keyring(_unwrap_all(rows, master_key))


async def rotate_master_key(db: Database, old_master: bytes, new_master: bytes) -> int:
    """Re-wrap every data key (retired ones too) under ``new_master``; return how many.

    One transaction, so the database is never half on each master key. Data keys do not
    change, so ciphertexts, pseudonyms and receipt hashes keep working; afterwards only
    ``new_master`` opens the database.
    """
    _check_master(old_master)
    _check_master(new_master)
    if secrets.compare_digest(old_master, new_master):
        raise ValueError("the new master key is the same as the old one")
    async with db.transaction():
        rows = await _read_keys(db)
        if not rows:
            raise KeyringError("this database has no data keys yet; there is nothing to rotate")
        unwrapped = _unwrap_all(rows, old_master)
        for key_id, (purpose, data_key, _retired) in unwrapped.items():
            await db.execute(
                "UPDATE data_keys SET wrapped = ? WHERE key_id = ?",
                (crypto.wrap_key(new_master, data_key, purpose, key_id), key_id),
            )
    log.info("master key rotated; %d data keys re-wrapped", len(unwrapped))
    return len(unwrapped)


async def add_content_key(db: Database, master_key: bytes) -> int:
    """Create a new active content key and retire (but keep) the previous one; return its id.

    Old ciphertexts stay readable through their embedded key id. Re-encrypting rows under
    the new key is a separate job. Running keyrings must be reloaded to encrypt with it.
    """
    _check_master(master_key)
    async with db.transaction():
        rows = await _read_keys(db)
        if not rows:
            raise KeyringError("load_keyring must create the keyring before keys are added")
        _unwrap_all(rows, master_key)  # proves the master key before changing anything
        await db.execute(
            "UPDATE data_keys SET retired_at = ? WHERE purpose = ? AND retired_at IS NULL",
            (utc_now(), KeyPurpose.CONTENT.value),
        )
        key_id = await _insert_key(db, master_key, KeyPurpose.CONTENT)
    log.info("new content key %d is active", key_id)
    return key_id


def _check_master(master_key: bytes) -> None:
    if not isinstance(master_key, bytes) or len(master_key) != crypto.KEY_BYTES:
        raise ValueError(
            f"the master key must be {crypto.KEY_BYTES} raw bytes (use parse_master_key)"
        )


async def _read_keys(db: Database) -> list[sqlite3.Row]:
    return await db.fetchall(
        "SELECT key_id, purpose, wrapped, retired_at FROM data_keys ORDER BY key_id"
    )


def _missing_purposes(rows: list[sqlite3.Row]) -> list[KeyPurpose]:
    active = {row["purpose"] for row in rows if row["retired_at"] is None}
    return [purpose for purpose in KeyPurpose if purpose.value not in active]


async def _insert_key(db: Database, master_key: bytes, purpose: KeyPurpose) -> int:
    """Insert a new data key. The id is needed for the wrapping AAD before the row exists,
    so a placeholder is inserted first and replaced within the caller's transaction."""
    row = await db.fetchone(
        "INSERT INTO data_keys (purpose, wrapped, created_at) VALUES (?, zeroblob(?), ?)"
        " RETURNING key_id",
        (purpose.value, crypto.WRAPPED_BYTES, utc_now()),
    )
    if row is None:
        raise KeyringError("could not insert a data key")
    key_id: int = row["key_id"]
    wrapped = crypto.wrap_key(master_key, crypto.new_data_key(), purpose.value, key_id)
    await db.execute("UPDATE data_keys SET wrapped = ? WHERE key_id = ?", (wrapped, key_id))
    return key_id


def _unwrap_all(rows: list[sqlite3.Row], master_key: bytes) -> dict[int, tuple[str, bytes, bool]]:
    """Unwrap every row: {key_id: (purpose, data_key, retired)}.

    If no key opens, the master key is wrong. If only some open, the master key is right and
    the failing rows are damaged: saying "wrong key" then would send the operator astray.
    """
    unwrapped: dict[int, tuple[str, bytes, bool]] = {}
    failed: list[int] = []
    for row in rows:
        key_id, purpose = row["key_id"], row["purpose"]
        try:
            data_key = crypto.unwrap_key(master_key, row["wrapped"], purpose, key_id)
        except crypto.KeyUnwrapError:
            failed.append(key_id)
            continue
        unwrapped[key_id] = (purpose, data_key, row["retired_at"] is not None)
    if failed and not unwrapped:
        raise WrongMasterKeyError()
    if failed:
        raise KeyringError(
            f"data keys {failed} are damaged: they do not open with the master key that "
            "opens the others (restore the database from a backup)"
        )
    return unwrapped


def _build_keyring(unwrapped: Mapping[int, tuple[str, bytes, bool]]) -> Keyring:
    content: dict[int, bytes] = {}
    active_content: int | None = None
    hmac_keys: dict[KeyPurpose, bytes] = {}
    for key_id, (purpose_text, data_key, retired) in unwrapped.items():
        try:
            purpose = KeyPurpose(purpose_text)
        except ValueError:
            continue  # a purpose added by newer code; not ours to use
        if purpose is KeyPurpose.CONTENT:
            content[key_id] = data_key
            if not retired:
                active_content = key_id
        elif not retired:
            hmac_keys[purpose] = data_key
    if active_content is None:
        raise KeyringError("there is no active content key")
    return Keyring(content, active_content, hmac_keys)
