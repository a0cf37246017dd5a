-- Several bot processes on one database (issue 15, item 3). Times are unix seconds. Every
-- statement that uses these tables is plain SQL that PostgreSQL accepts too (INSERT ... ON
-- CONFLICT ... RETURNING, no SQLite-only function); the PostgreSQL twin of this file types the
-- times DOUBLE PRECISION, update ids BIGINT and the keys BYTEA.

-- Updates seen by any process (storage/updates_seen.py): claimed ('handling', by `holder`
-- until `until`) before an update is handled, 'done' after. A second delivery of a done update
-- is dropped; of one in hand by a live holder, refused for now; of one whose holder's lease ran
-- out, handled again. Rows older than a day are purged by housekeeping (`at`).
CREATE TABLE updates_seen (
    update_id INTEGER PRIMARY KEY,
    state     TEXT NOT NULL CHECK (state IN ('handling', 'done')),
    holder    TEXT NOT NULL,
    until     REAL NOT NULL,
    at        REAL NOT NULL
);
CREATE INDEX updates_seen_by_time ON updates_seen (at);

-- One chat's turn (storage/chat_turns.py): held by one process while it handles an update of
-- that chat, until `until` unless renewed. The chat is named by a keyed pseudonym (the rate-limit
-- key), never by its id.
CREATE TABLE chat_turns (
    chat   BLOB PRIMARY KEY,
    holder TEXT NOT NULL,
    until  REAL NOT NULL
);
CREATE INDEX chat_turns_by_holder ON chat_turns (holder);

-- The flood count shared by every process (storage/floods.py): per person (the rate-limit
-- pseudonym) and kind ('message', 'press'), the messages counted since `since`; kind 'silence'
-- holds in `since` the moment the person's silence ends.
CREATE TABLE flood_counts (
    subject BLOB NOT NULL,
    kind    TEXT NOT NULL,
    since   REAL NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (subject, kind)
);
CREATE INDEX flood_counts_by_time ON flood_counts (since);

-- Periodic work that one process of the line does per period (storage/job_runs.py): the last
-- run's start (`at`) and who took it.
CREATE TABLE job_runs (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    at     REAL NOT NULL
);
