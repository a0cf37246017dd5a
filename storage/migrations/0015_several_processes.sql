-- Several bot processes on one database (issue 15, item 3). Times are unix seconds. Every
-- statement that uses these tables is plain SQL that PostgreSQL accepts too (INSERT ... ON
-- CONFLICT ... RETURNING, no SQLite-only function); the PostgreSQL twin of this file types the
-- times DOUBLE PRECISION, bot and update ids BIGINT and the keys BYTEA.

-- Updates seen by any process (storage/updates_seen.py), per bot (`bot`, the bot's id: update
-- ids are unique per bot only, and a new token starts them again at 1): claimed ('handling', by
-- `holder`, a process `host:pid:nonce`) before an update is handled, 'done' after. A second
-- delivery of a done update is dropped; of one in hand by a live process, refused for now; of
-- one whose process is gone, handled again. A claim carries no time: whether its holder lives
-- is its process's (the pid on the same host, else the process's heartbeat, the lease named
-- 'process:<holder>' in `leases`). `at` is the hour the update was seen (the only time kept of
-- someone's message): rows a day old are purged by housekeeping.
CREATE TABLE updates_seen (
    bot       INTEGER NOT NULL,
    update_id INTEGER NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('handling', 'done')),
    holder    TEXT NOT NULL,
    at        REAL NOT NULL,
    PRIMARY KEY (bot, update_id)
);
CREATE INDEX updates_seen_by_time ON updates_seen (at);

-- One chat's turn (storage/chat_turns.py): held by one process while it handles an update of
-- that chat. No time either: a turn whose holder is gone (as for updates_seen) is taken over.
-- The chat is named by a keyed pseudonym (the rate-limit key), never by its id.
CREATE TABLE chat_turns (
    chat   BLOB PRIMARY KEY,
    holder TEXT NOT NULL
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
