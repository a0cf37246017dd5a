-- Data keys, each wrapped (AES-256-GCM) by the master key TIPBOT_KEY, which never touches
-- the disk. See storage/keyring.py.
--
-- The master key needs no separate verifier: every wrapped key authenticates it, because
-- AES-GCM refuses to unwrap under the wrong key.
--
-- key_id is AUTOINCREMENT so an id is never reused: every content ciphertext names the id
-- of its key, and a reused id would point old ciphertexts at the wrong key.
-- retired_at set = kept only to decrypt old data; at most one active key per purpose.
CREATE TABLE data_keys (
    key_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose    TEXT    NOT NULL CHECK (purpose <> ''),
    wrapped    BLOB    NOT NULL CHECK (length(wrapped) = 61),
    created_at TEXT    NOT NULL,
    retired_at TEXT
);

CREATE UNIQUE INDEX data_keys_one_active_per_purpose
    ON data_keys (purpose) WHERE retired_at IS NULL;
