-- The PostgreSQL twin of storage/migrations/0015_several_processes.sql (read that file for
-- what each table is for): the same tables, columns and index names. Update and bot ids are
-- BIGINT (Telegram's exceed 32 bits), the keyed pseudonyms BYTEA, times DOUBLE PRECISION
-- (unix seconds, as SQLite's REAL).

CREATE TABLE updates_seen (
    bot       BIGINT           NOT NULL,
    update_id BIGINT           NOT NULL,
    state     TEXT             NOT NULL CHECK (state IN ('handling', 'done')),
    holder    TEXT             NOT NULL,
    at        DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (bot, update_id)
);
CREATE INDEX updates_seen_by_time ON updates_seen (at);

CREATE TABLE chat_turns (
    chat   BYTEA PRIMARY KEY,
    holder TEXT  NOT NULL
);
CREATE INDEX chat_turns_by_holder ON chat_turns (holder);

CREATE TABLE flood_counts (
    subject BYTEA            NOT NULL,
    kind    TEXT             NOT NULL,
    since   DOUBLE PRECISION NOT NULL,
    n       INTEGER          NOT NULL,
    PRIMARY KEY (subject, kind)
);
CREATE INDEX flood_counts_by_time ON flood_counts (since);

CREATE TABLE job_runs (
    name   TEXT             PRIMARY KEY,
    holder TEXT             NOT NULL,
    at     DOUBLE PRECISION NOT NULL
);
