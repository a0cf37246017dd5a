-- Data over its life (issue 14): purging closed tips, rotating keys.
--
-- The purge finds the tips closed longer than TIPBOT_RETENTION_DAYS ago by their (clear, hour)
-- closing time: an index keeps the daily look cheap however many tips there are.
CREATE INDEX tips_by_closing ON tips (closed_at) WHERE closed_at IS NOT NULL;

-- Each running bot says, every few seconds, which content keys it holds and which it encrypts
-- with (storage/rotation.py). `rotate-key --content` waits until every running bot encrypts
-- with (and so holds) the new content key before it re-encrypts anything, so officers and
-- residents can read every value throughout and no value is written under a key about to go.
-- beat: a new random value at each look, so that "it runs" needs no time written down; a row
-- whose beat does not change for a few seconds is a bot that stopped. holder: a random id per
-- process; nothing about any person.
CREATE TABLE keyring_holders (
    holder     TEXT    PRIMARY KEY,
    active_key INTEGER NOT NULL,
    key_ids    TEXT    NOT NULL,          -- JSON list of the content key ids it holds
    beat       TEXT    NOT NULL
) WITHOUT ROWID;
