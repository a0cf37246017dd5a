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

-- How many tips of each area (''= the resident was not sure), category and status there are,
-- kept by the triggers below. The count under /tips and in the staff header is a sum of a few
-- of its rows instead of a count of every open tip; /stats takes from it the kinds of tips
-- that exist and counts each kind in each bar of its chart on tips_by_kind (a seek and a
-- count per kind and bar, instead of sorting every tip of the period to group them).
CREATE TABLE tip_tally (
    area     TEXT    NOT NULL,
    category TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (area, category, status)
) WITHOUT ROWID;

INSERT INTO tip_tally (area, category, status, n)
SELECT coalesce(area, ''), category, status, count(*) FROM tips
GROUP BY coalesce(area, ''), category, status;

CREATE INDEX tips_by_kind ON tips (category, area, status, created_at);

-- The median hours to closing read the closing time from an index, as tips_for_stats (of
-- migration 0008) does for the acknowledgement.
CREATE INDEX tips_for_closing ON tips (created_at, area, closed_at);

CREATE TRIGGER tip_tally_insert AFTER INSERT ON tips
BEGIN
    INSERT INTO tip_tally (area, category, status, n)
    VALUES (coalesce(NEW.area, ''), NEW.category, NEW.status, 1)
    ON CONFLICT (area, category, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tip_tally_delete AFTER DELETE ON tips
BEGIN
    UPDATE tip_tally SET n = n - 1
    WHERE area = coalesce(OLD.area, '') AND category = OLD.category AND status = OLD.status;
END;

CREATE TRIGGER tip_tally_update AFTER UPDATE OF area, category, status ON tips
WHEN OLD.area IS NOT NEW.area OR OLD.category IS NOT NEW.category
    OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE tip_tally SET n = n - 1
    WHERE area = coalesce(OLD.area, '') AND category = OLD.category AND status = OLD.status;
    INSERT INTO tip_tally (area, category, status, n)
    VALUES (coalesce(NEW.area, ''), NEW.category, NEW.status, 1)
    ON CONFLICT (area, category, status) DO UPDATE SET n = n + 1;
END;
