-- Officers and admins, tips, their threads, the delivery outbox, conversation drafts, settings,
-- rate-limit attempts and officer invites.
--
-- What stays in clear is only what routing and statistics need (category, area, urgency,
-- status, times) and what is about staff, not residents (officer ids and names). Everything a
-- resident wrote or sent lives in encrypted BLOB columns (see storage/keyring.py); residents
-- are recognised only by keyed hashes, a different key per table so tables cannot be joined.

-- Staff: officers (is_officer) and admins promoted in the bot (is_admin). Permanent admins come
-- from TIPBOT_ADMIN_IDS and get a row when they first write, for their name and reachability.
-- reach: 'pending' until they first write to the bot (Telegram forbids writing first),
-- 'unreachable' after a 403, 'reachable' again once they write.
CREATE TABLE staff (
    user_id      INTEGER PRIMARY KEY,
    display_name TEXT    NOT NULL,
    is_officer   INTEGER NOT NULL DEFAULT 0 CHECK (is_officer IN (0, 1)),
    is_admin     INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    all_areas    INTEGER NOT NULL DEFAULT 0 CHECK (all_areas IN (0, 1)),
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    reach        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (reach IN ('pending', 'reachable', 'unreachable')),
    name_given   INTEGER NOT NULL DEFAULT 0 CHECK (name_given IN (0, 1)),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE TABLE staff_areas (
    user_id INTEGER NOT NULL REFERENCES staff (user_id) ON DELETE CASCADE,
    area    TEXT    NOT NULL,
    PRIMARY KEY (user_id, area)
) WITHOUT ROWID;

CREATE INDEX staff_areas_by_area ON staff_areas (area);

-- One-time officer invites: only a hash of the token is kept.
CREATE TABLE invites (
    token_hash BLOB    PRIMARY KEY,
    areas      TEXT    NOT NULL,          -- JSON list of area codes
    all_areas  INTEGER NOT NULL DEFAULT 0 CHECK (all_areas IN (0, 1)),
    created_by INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    used_by    INTEGER,
    used_at    TEXT
) WITHOUT ROWID;

-- Tips. ref is the short reference officers see: random, not derived from the receipt code
-- nor from the resident. receipt_hash is a keyed hash of the receipt code (never the code).
-- content: encrypted JSON of what the resident wrote and sent. notify_chat: encrypted chat id,
-- only when the resident asked to be notified. No column identifies the author.
CREATE TABLE tips (
    tip_id       INTEGER PRIMARY KEY,
    ref          TEXT    NOT NULL UNIQUE,
    receipt_hash BLOB    NOT NULL UNIQUE,
    category     TEXT    NOT NULL,
    area         TEXT,                    -- NULL: the resident was not sure
    urgent       INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    status       TEXT    NOT NULL DEFAULT 'new',
    campaign     TEXT,
    content      BLOB    NOT NULL,
    notify_chat  BLOB,
    delivered    INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1)),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX tips_by_area_status ON tips (area, status, created_at);

-- The thread of a tip after it was sent: the resident's additions and officers' replies.
-- body: encrypted JSON (text, attachments). uid binds the ciphertext to its row.
CREATE TABLE tip_messages (
    message_id INTEGER PRIMARY KEY,
    uid        TEXT    NOT NULL UNIQUE,
    tip_id     INTEGER NOT NULL REFERENCES tips (tip_id) ON DELETE CASCADE,
    author     TEXT    NOT NULL CHECK (author IN ('resident', 'officer')),
    staff_id   INTEGER,
    body       BLOB    NOT NULL,
    created_at TEXT    NOT NULL
);

CREATE INDEX tip_messages_by_tip ON tip_messages (tip_id, message_id);

-- Deliveries to staff, at least once. A worker claims a row (claimed_until) before sending,
-- so two processes never send the same row at the same time; a claim that expired (a crash
-- mid-call) is taken again. kind: 'card' (the tip), 'addition' (a resident's follow-up,
-- tip_message), 'notice' (a short note to admins, e.g. a tip moved to another tier),
-- 'reminder' (an unacknowledged tip), and towards the resident who asked to be notified
-- 'resident_reply' (an officer's message) and 'resident_status' (a status change): their
-- recipient_id is 0 and the chat is read, encrypted, from the tip when sending.
CREATE TABLE outbox (
    outbox_id       INTEGER PRIMARY KEY,
    tip_id          INTEGER NOT NULL REFERENCES tips (tip_id) ON DELETE CASCADE,
    recipient_id    INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('card', 'addition', 'notice',
                                                    'reminder', 'resident_reply',
                                                    'resident_status')),
    tip_message_id  INTEGER REFERENCES tip_messages (message_id) ON DELETE CASCADE,
    notice          TEXT,
    tier            INTEGER NOT NULL DEFAULT 1,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'unreachable')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    claimed_until   REAL,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    sent_at         TEXT
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_tip ON outbox (tip_id);

-- Conversations in progress (the report draft, a /status session): subject is a keyed hash of
-- the user id (its own key); state is encrypted JSON. Written before the bot answers a step.
CREATE TABLE drafts (
    subject    BLOB PRIMARY KEY,
    state      BLOB NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- A user's chosen language, by a keyed hash of their id (its own key).
CREATE TABLE preferences (
    subject  BLOB PRIMARY KEY,
    language TEXT NOT NULL CHECK (language IN ('vi', 'en'))
) WITHOUT ROWID;

-- Failed attempts for rate limits (wrong receipt codes), by a keyed hash (its own key).
CREATE TABLE attempts (
    subject BLOB NOT NULL,
    kind    TEXT NOT NULL,
    at      REAL NOT NULL
);

CREATE INDEX attempts_by_subject ON attempts (subject, kind, at);
