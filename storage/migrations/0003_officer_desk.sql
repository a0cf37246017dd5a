-- The officer's desk: acknowledgement and escalation times, transfers, explicit assignments,
-- the card messages to edit in place, officers' pending actions, and the audit log.

ALTER TABLE tips ADD COLUMN acknowledged_at TEXT;
ALTER TABLE tips ADD COLUMN reminded_at TEXT;
ALTER TABLE tips ADD COLUMN escalated_at TEXT;
-- The agency a tip was transferred to, as the officer typed it (about the case, not the
-- resident), shown to officers only.
ALTER TABLE tips ADD COLUMN transferred_to TEXT;

-- A tip given to a named officer (reassign) is theirs too, whatever their areas.
CREATE TABLE tip_assignees (
    tip_id   INTEGER NOT NULL REFERENCES tips (tip_id) ON DELETE CASCADE,
    staff_id INTEGER NOT NULL REFERENCES staff (user_id) ON DELETE CASCADE,
    PRIMARY KEY (tip_id, staff_id)
) WITHOUT ROWID;

-- The first message of each card an officer received, to edit it when the tip changes.
CREATE TABLE cards (
    tip_id     INTEGER NOT NULL REFERENCES tips (tip_id) ON DELETE CASCADE,
    staff_id   INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (tip_id, staff_id, message_id)
) WITHOUT ROWID;

-- What an officer is in the middle of (writing a reply, naming the agency of a transfer).
-- Staff are not anonymous, so this is keyed by their id; it holds no tip content.
CREATE TABLE staff_actions (
    user_id    INTEGER PRIMARY KEY,
    action     TEXT    NOT NULL,
    tip_id     INTEGER NOT NULL REFERENCES tips (tip_id) ON DELETE CASCADE,
    updated_at TEXT    NOT NULL
);

-- Every officer and admin action, chained: each row's link is an HMAC (audit key) over the
-- previous link and the row, so editing or deleting a row breaks every link after it, and
-- forging a new chain needs the master key. detail never holds what a resident wrote.
CREATE TABLE audit_log (
    audit_id INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL,
    actor_id INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    tip_id   INTEGER,
    detail   TEXT    NOT NULL DEFAULT '',
    link     BLOB    NOT NULL
);
