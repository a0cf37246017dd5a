-- Issue 16: /tips, the worker and the counts stay on indexes at a million tips.

-- /tips of an admin or an officer of all areas: one status, newest first. Every index ends
-- with the rowid (tip_id), so `ORDER BY created_at DESC, tip_id DESC` is this index's order
-- (an officer's areas use tips_by_area_status, of migration 0002, the same way).
CREATE INDEX tips_by_status ON tips (status, created_at);

-- The worker, every few seconds: new tips nobody has acknowledged nor escalated yet (the
-- reminders and escalations to come), and tips no staff member has received yet. Partial:
-- a tip leaves them once dealt with, so they stay as small as the work waiting.
CREATE INDEX tips_awaiting_ack ON tips (created_at)
    WHERE status = 'new' AND acknowledged_at IS NULL AND escalated_at IS NULL;
CREATE INDEX tips_undelivered ON tips (tip_id) WHERE delivered = 0;

-- How many tips of each area (''= the resident was not sure) are in each status, kept by
-- the triggers below: the count under /tips and in the staff header is a sum of a few rows
-- instead of a count of every open tip.
CREATE TABLE tip_tally (
    area   TEXT    NOT NULL,
    status TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (area, status)
) WITHOUT ROWID;

INSERT INTO tip_tally (area, status, n)
SELECT coalesce(area, ''), status, count(*) FROM tips GROUP BY coalesce(area, ''), status;

CREATE TRIGGER tip_tally_insert AFTER INSERT ON tips
BEGIN
    INSERT INTO tip_tally (area, status, n) VALUES (coalesce(NEW.area, ''), NEW.status, 1)
    ON CONFLICT (area, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tip_tally_delete AFTER DELETE ON tips
BEGIN
    UPDATE tip_tally SET n = n - 1 WHERE area = coalesce(OLD.area, '') AND status = OLD.status;
END;

CREATE TRIGGER tip_tally_update AFTER UPDATE OF area, status ON tips
WHEN OLD.area IS NOT NEW.area OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE tip_tally SET n = n - 1 WHERE area = coalesce(OLD.area, '') AND status = OLD.status;
    INSERT INTO tip_tally (area, status, n) VALUES (coalesce(NEW.area, ''), NEW.status, 1)
    ON CONFLICT (area, status) DO UPDATE SET n = n + 1;
END;
