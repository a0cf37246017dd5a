-- The resident is an explicit recipient of the outbox, no longer the id 0.
--
-- `recipient` says who a row is for: 'staff' (then `recipient_id` is the staff member's
-- Telegram id) or 'resident' (then `recipient_id` is NULL: the chat is read, encrypted, from
-- the tip when sending). Rows of the kinds 'resident_reply' and 'resident_status' were the
-- resident's, with recipient_id 0. SQLite cannot relax NOT NULL in place, so the table is
-- rebuilt with the same ids (the encrypted `timing` is bound to tip and row ids, so it stays
-- valid); nothing references the outbox.
CREATE TABLE outbox_new (
    outbox_id       INTEGER PRIMARY KEY,
    tip_id          INTEGER NOT NULL REFERENCES tips (tip_id) ON DELETE CASCADE,
    recipient       TEXT    NOT NULL CHECK (recipient IN ('staff', 'resident')),
    recipient_id    INTEGER,
    kind            TEXT    NOT NULL CHECK (kind IN ('card', 'addition', 'notice',
                                                    'reminder', 'resident_reply',
                                                    'resident_status')),
    tip_message_id  INTEGER REFERENCES tip_messages (message_id) ON DELETE CASCADE,
    notice          TEXT,
    tier            INTEGER NOT NULL DEFAULT 1,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'unreachable')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    timing          BLOB,
    CHECK ((recipient = 'staff') = (recipient_id IS NOT NULL)),
    CHECK ((recipient = 'resident') = (kind IN ('resident_reply', 'resident_status')))
);

INSERT INTO outbox_new (outbox_id, tip_id, recipient, recipient_id, kind, tip_message_id,
                        notice, tier, state, attempts, last_error, created_at, sent_at, timing)
SELECT outbox_id, tip_id,
       CASE WHEN kind IN ('resident_reply', 'resident_status') THEN 'resident' ELSE 'staff' END,
       CASE WHEN kind IN ('resident_reply', 'resident_status') THEN NULL ELSE recipient_id END,
       kind, tip_message_id, notice, tier, state, attempts, last_error, created_at, sent_at,
       timing
FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_tip ON outbox (tip_id);
CREATE INDEX outbox_pending ON outbox (outbox_id) WHERE state = 'pending';
