-- Issue 16: /stats for a year at a million tips counts days, not tips. Until now the counts by
-- category, area and status (and by category in each bar of the chart) grouped every tip of
-- the period: 500k tips for a year at 1M, 126 ms on SQLite and 215-306 ms on PostgreSQL.
--
-- How many tips arrived on each UTC day ('YYYY-MM-DD' of tips.created_at), kept by the
-- triggers below on every insert, deletion (a purge deletes tips) and change of the arrival,
-- category, area or status; a row whose count falls to 0 goes. Two kinds of rows:
--
-- - dim 'kind': per area ('' = the resident was not sure), category and status; and for every
--   area at once (area '*'), so that "every area" reads one row per category and status of a
--   day instead of one per area too (~54 rows a day instead of ~760 at 1M tips);
-- - dim 'area': per area only (category and status ''), for the counts by area of every area.
--
-- It holds nothing the clear columns of tips do not already hold (the day of arrival, area,
-- category, status, counts): no tip, no person, no time finer than the day. A window of /stats
-- starts at a local midnight (TIPBOT_TIMEZONE), so each bar of its chart is its whole UTC days,
-- read here, and the (at most two) partial UTC days at its edges, read from tips
-- (storage/stats.py). tip_tally (migration 0013) keeps the same counts for all time.
CREATE TABLE tip_days (
    dim      TEXT    NOT NULL CHECK (dim IN ('kind', 'area')),
    area     TEXT    NOT NULL,
    day      TEXT    NOT NULL,
    category TEXT    NOT NULL,
    status   TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (dim, area, day, category, status)
) WITHOUT ROWID;

INSERT INTO tip_days (dim, area, day, category, status, n)
SELECT 'kind', coalesce(area, ''), substr(created_at, 1, 10), category, status, count(*)
FROM tips GROUP BY 2, 3, 4, 5
UNION ALL
SELECT 'kind', '*', substr(created_at, 1, 10), category, status, count(*)
FROM tips GROUP BY 3, 4, 5
UNION ALL
SELECT 'area', coalesce(area, ''), substr(created_at, 1, 10), '', '', count(*)
FROM tips GROUP BY 2, 3;

-- The rows of one tip: its kind in its area and in '*', and its area (3 rows). A tip is taken
-- out by naming its rows, each statement a seek of the primary key (a row value
-- `(dim, area, …) IN (VALUES …)` made SQLite 3.40 scan the whole table), and put in by an
-- upsert of the same rows.
CREATE TRIGGER tip_days_insert AFTER INSERT ON tips
BEGIN
    INSERT INTO tip_days (dim, area, day, category, status, n)
    SELECT r.dim, r.area, substr(NEW.created_at, 1, 10), r.category, r.status, 1
    FROM (SELECT 'kind' AS dim, coalesce(NEW.area, '') AS area, NEW.category AS category,
                 NEW.status AS status
          UNION ALL SELECT 'kind', '*', NEW.category, NEW.status
          UNION ALL SELECT 'area', coalesce(NEW.area, ''), '', '') AS r
    WHERE true
    ON CONFLICT (dim, area, day, category, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tip_days_delete AFTER DELETE ON tips
BEGIN
    UPDATE tip_days SET n = n - 1
    WHERE dim = 'kind' AND area IN ('*', coalesce(OLD.area, ''))
        AND day = substr(OLD.created_at, 1, 10) AND category = OLD.category
        AND status = OLD.status;
    UPDATE tip_days SET n = n - 1
    WHERE dim = 'area' AND area = coalesce(OLD.area, '') AND day = substr(OLD.created_at, 1, 10)
        AND category = '' AND status = '';
    DELETE FROM tip_days
    WHERE n = 0 AND dim = 'kind' AND area IN ('*', coalesce(OLD.area, ''))
        AND day = substr(OLD.created_at, 1, 10) AND category = OLD.category
        AND status = OLD.status;
    DELETE FROM tip_days
    WHERE n = 0 AND dim = 'area' AND area = coalesce(OLD.area, '')
        AND day = substr(OLD.created_at, 1, 10) AND category = '' AND status = '';
END;

CREATE TRIGGER tip_days_update AFTER UPDATE OF created_at, category, area, status ON tips
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.category IS NOT NEW.category
    OR OLD.area IS NOT NEW.area OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE tip_days SET n = n - 1
    WHERE dim = 'kind' AND area IN ('*', coalesce(OLD.area, ''))
        AND day = substr(OLD.created_at, 1, 10) AND category = OLD.category
        AND status = OLD.status;
    UPDATE tip_days SET n = n - 1
    WHERE dim = 'area' AND area = coalesce(OLD.area, '') AND day = substr(OLD.created_at, 1, 10)
        AND category = '' AND status = '';
    DELETE FROM tip_days
    WHERE n = 0 AND dim = 'kind' AND area IN ('*', coalesce(OLD.area, ''))
        AND day = substr(OLD.created_at, 1, 10) AND category = OLD.category
        AND status = OLD.status;
    DELETE FROM tip_days
    WHERE n = 0 AND dim = 'area' AND area = coalesce(OLD.area, '')
        AND day = substr(OLD.created_at, 1, 10) AND category = '' AND status = '';
    INSERT INTO tip_days (dim, area, day, category, status, n)
    SELECT r.dim, r.area, substr(NEW.created_at, 1, 10), r.category, r.status, 1
    FROM (SELECT 'kind' AS dim, coalesce(NEW.area, '') AS area, NEW.category AS category,
                 NEW.status AS status
          UNION ALL SELECT 'kind', '*', NEW.category, NEW.status
          UNION ALL SELECT 'area', coalesce(NEW.area, ''), '', '') AS r
    WHERE true
    ON CONFLICT (dim, area, day, category, status) DO UPDATE SET n = n + 1;
END;
