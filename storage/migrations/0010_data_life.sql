-- Data over its life (issue 14): purging closed tips, rotating keys.
--
-- The purge finds the tips closed longer than TIPBOT_RETENTION_DAYS ago by their (clear, hour)
-- closing time: an index keeps the daily look cheap however many tips there are.
CREATE INDEX tips_by_closing ON tips (closed_at) WHERE closed_at IS NOT NULL;

-- Each running bot says, every few seconds, which content keys it holds and which it encrypts
-- with (storage/rotation.py). `rotate-key --content` waits until every live bot holds the new
-- content key before it re-encrypts anything (so officers and residents can read every value
-- throughout), and until every live bot encrypts with it before it deletes the old one (so no
-- value is written under a key that is gone). A row not renewed for a minute is a bot that
-- stopped. holder: a random id per process; nothing about any person.
CREATE TABLE keyring_holders (
    holder     TEXT    PRIMARY KEY,
    active_key INTEGER NOT NULL,
    key_ids    TEXT    NOT NULL,          -- JSON list of the content key ids it holds
    seen_at    REAL    NOT NULL
) WITHOUT ROWID;
