-- Statistics (/stats, /export) and the monthly review (SPEC "Admin").
--
-- Counts are aggregated in SQL from the clear columns (category, area, status, times); nothing
-- is decrypted to count. Tips by arrival, with what is counted, keep a year of 100,000 tips
-- under a second; the audit entries of a tip (who acted on it, for the export, and the card's
-- history) are found by tip.
CREATE INDEX tips_for_stats ON tips (created_at, category, area, status, acknowledged_at);
CREATE INDEX audit_log_by_tip ON audit_log (tip_id, action, actor_id);

-- The monthly review (sơ kết tháng): one row per month reviewed ('YYYY-MM' in TIPBOT_TIMEZONE),
-- due on the first day of the next month at 08:00 (due_at, unix time: the one truth for "is it
-- due", like schedules.next_run_at). outcome: NULL while it is to come, 'sent' once every admin
-- was tried, 'skipped' when it was missed by more than a day (the bot was down).
CREATE TABLE monthly_reviews (
    month       TEXT PRIMARY KEY CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    due_at      REAL NOT NULL,
    outcome     TEXT CHECK (outcome IN ('sent', 'skipped')),
    finished_at REAL
) WITHOUT ROWID;

-- Each admin's copy of a review, claimed (state 'sending') in one statement before it is sent:
-- whoever inserts the row sends it, so a restart or a second process never sends it twice. A
-- row left 'sending' by a process that died is not sent again (at most once, like broadcasts).
CREATE TABLE monthly_review_sends (
    month    TEXT    NOT NULL REFERENCES monthly_reviews (month) ON DELETE CASCADE,
    admin_id INTEGER NOT NULL,
    state    TEXT    NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'sent', 'failed')),
    at       REAL    NOT NULL,
    PRIMARY KEY (month, admin_id)
) WITHOUT ROWID;
