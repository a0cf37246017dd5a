-- The awareness campaign: subscribers, broadcasts with their per-recipient queue, schedules, the
-- rotation of bundled campaign messages, and the campaign link counters.
--
-- A subscriber is found again only by a keyed hash of their Telegram id (the subscriber key, used
-- by no other table) and their chat id is encrypted; no table links a subscriber to a tip. Campaign
-- counters are counts only: nothing in them says who opened a link.

-- One row per subscribed chat. subject: keyed hash of the user id (uniqueness, lookup).
-- chat_id: encrypted (bound to this table, the subject and the column). language: the language
-- the subscriber reads campaign messages in (set at /subscribe, changed by /language).
CREATE TABLE subscribers (
    subscriber_id INTEGER PRIMARY KEY,
    subject       BLOB    NOT NULL UNIQUE,
    chat_id       BLOB    NOT NULL,
    language      TEXT    NOT NULL CHECK (language IN ('vi', 'en')),
    created_at    TEXT    NOT NULL
);

-- A broadcast (an admin's /broadcast or a scheduled post). content: encrypted JSON (kind, texts
-- per language, photo file id), bound to uid. progress_chat / progress_message: the admin's
-- progress message (staff ids, not residents). reported: the final report was sent.
CREATE TABLE broadcasts (
    broadcast_id     INTEGER PRIMARY KEY,
    uid              TEXT    NOT NULL UNIQUE,
    origin           TEXT    NOT NULL CHECK (origin IN ('admin', 'schedule')),
    schedule_id      INTEGER,
    created_by       INTEGER,
    content          BLOB    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'sending'
                     CHECK (state IN ('sending', 'done', 'stopped')),
    total            INTEGER NOT NULL,
    progress_chat    INTEGER,
    progress_message INTEGER,
    reported         INTEGER NOT NULL DEFAULT 0 CHECK (reported IN (0, 1)),
    created_at       REAL    NOT NULL,
    finished_at      REAL
);

CREATE INDEX broadcasts_by_state ON broadcasts (state, reported);

-- The durable per-recipient queue, at most once per recipient. A worker claims a row by setting
-- state 'sending' and claimed_by in one statement right before the call; a row left 'sending' by
-- a worker that died is never sent again: it becomes 'uncertain'. subscriber_id is NULL for a
-- configured channel (channel holds its id or @username) and after the subscriber left.
CREATE TABLE broadcast_recipients (
    recipient_id    INTEGER PRIMARY KEY,
    broadcast_id    INTEGER NOT NULL REFERENCES broadcasts (broadcast_id) ON DELETE CASCADE,
    subscriber_id   INTEGER REFERENCES subscribers (subscriber_id) ON DELETE SET NULL,
    channel         TEXT,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'removed',
                                     'uncertain', 'skipped', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    last_error      TEXT,
    finished_at     REAL
);

CREATE INDEX broadcast_recipients_queue ON broadcast_recipients (state, recipient_id);
CREATE INDEX broadcast_recipients_by_broadcast ON broadcast_recipients (broadcast_id, state);
CREATE INDEX broadcast_recipients_by_subscriber ON broadcast_recipients (subscriber_id);

-- Leases on background work shared by processes (the broadcaster): one holder at a time, until
-- `until` (unix time) unless renewed.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  REAL NOT NULL
) WITHOUT ROWID;

-- Recurring posts. content: encrypted JSON bound to uid ({"kind": "rotation"} or a text or a
-- photo). at_time is HH:MM in TIPBOT_TIMEZONE; weekdays: comma-separated 0-6 (Monday = 0).
-- next_run_at (unix time) is the occurrence to post next: the one truth for "is it due".
CREATE TABLE schedules (
    schedule_id       INTEGER PRIMARY KEY,
    uid               TEXT    NOT NULL UNIQUE,
    content           BLOB    NOT NULL,
    frequency         TEXT    NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    weekdays          TEXT    NOT NULL DEFAULT '',
    day_of_month      INTEGER CHECK (day_of_month BETWEEN 1 AND 28),
    at_time           TEXT    NOT NULL,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    next_run_at       REAL    NOT NULL,
    last_run_at       REAL,
    last_outcome      TEXT    CHECK (last_outcome IN ('sent', 'skipped')),
    last_broadcast_id INTEGER,
    created_by        INTEGER NOT NULL,
    created_at        REAL    NOT NULL
);

-- Where the rotation of bundled campaign messages is (the next one to post).
CREATE TABLE campaign_rotation (
    name     TEXT    PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;

-- Campaign link opens (`/start c-<campaign>-<category>`): counts only.
CREATE TABLE campaign_starts (
    campaign TEXT    NOT NULL,
    category TEXT    NOT NULL,
    starts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, category)
) WITHOUT ROWID;

-- Submitted tips per campaign are counted from tips.campaign.
CREATE INDEX tips_by_campaign ON tips (campaign, category) WHERE campaign IS NOT NULL;
