-- Issue 16: /stats for a year at a million tips. The medians of hours (arrival to
-- acknowledgement, arrival to closing) read a histogram instead of every value of the period.
--
-- How many tips of each UTC day and of each UTC month of arrival took exactly `hours` to be
-- acknowledged ('ack') or closed ('close'), per area ('' = the resident was not sure) and for
-- every area at once ('*': "every area" reads one row per value instead of one per area and
-- value). Kept by the triggers below on every insert, deletion (a purge deletes tips) and
-- change of the arrival, the acknowledgement, the closing or the area; a row whose count falls
-- to 0 goes. It holds nothing the clear columns of tips do not already hold (the day of
-- arrival, the area, the hours between two clear times, counts): no tip, no person.
--
-- `hours` is exact: whole seconds between the two clear times (never negative: times rounded
-- down to the hour can meet) / 3600.0, the same value in PostgreSQL's twin. Clear times are
-- hours in production, so the values are whole hours and few. A window of /stats starts at a
-- local midnight (TIPBOT_TIMEZONE): storage/stats.py reads its whole UTC months from the
-- 'month' rows, the whole UTC days around them from the 'day' rows, and the tips of the (at
-- most two) partial days at its edges from tips.
CREATE TABLE tip_hours (
    measure TEXT    NOT NULL CHECK (measure IN ('ack', 'close')),
    area    TEXT    NOT NULL,
    grain   TEXT    NOT NULL CHECK (grain IN ('day', 'month')),
    period  TEXT    NOT NULL,  -- 'YYYY-MM-DD' (grain 'day') or 'YYYY-MM' ('month'), UTC
    hours   REAL    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (measure, area, grain, period, hours)
) WITHOUT ROWID;

WITH contributions AS (
    SELECT 'ack' AS measure, coalesce(area, '') AS area, created_at,
           max(0, strftime('%s', acknowledged_at) - strftime('%s', created_at)) / 3600.0 AS hours
    FROM tips WHERE acknowledged_at IS NOT NULL
    UNION ALL
    SELECT 'close', coalesce(area, ''), created_at,
           max(0, strftime('%s', closed_at) - strftime('%s', created_at)) / 3600.0
    FROM tips WHERE closed_at IS NOT NULL
)
INSERT INTO tip_hours (measure, area, grain, period, hours, n)
SELECT c.measure, CASE WHEN e.every THEN '*' ELSE c.area END, g.grain,
       substr(c.created_at, 1, g.len), c.hours, count(*)
FROM contributions c,
     (SELECT 0 AS every UNION ALL SELECT 1) AS e,
     (SELECT 'day' AS grain, 10 AS len UNION ALL SELECT 'month', 7) AS g
GROUP BY 1, 2, 3, 4, 5;

-- The rows of one tip: each of its two measures that has a time, in its area and in '*', by
-- day and by month (up to 8). A tip is taken out by naming its rows (each statement seeks the
-- primary key: a NULL time names none) and put in by an upsert of the same rows.
CREATE TRIGGER tip_hours_insert AFTER INSERT ON tips
WHEN NEW.acknowledged_at IS NOT NULL OR NEW.closed_at IS NOT NULL
BEGIN
    INSERT INTO tip_hours (measure, area, grain, period, hours, n)
    SELECT c.measure, a.area, g.grain, substr(NEW.created_at, 1, g.len), c.hours, 1
    FROM (SELECT 'ack' AS measure, max(0, strftime('%s', NEW.acknowledged_at)
                 - strftime('%s', NEW.created_at)) / 3600.0 AS hours
          WHERE NEW.acknowledged_at IS NOT NULL
          UNION ALL
          SELECT 'close', max(0, strftime('%s', NEW.closed_at)
                 - strftime('%s', NEW.created_at)) / 3600.0
          WHERE NEW.closed_at IS NOT NULL) AS c,
         (SELECT '*' AS area UNION ALL SELECT coalesce(NEW.area, '')) AS a,
         (SELECT 'day' AS grain, 10 AS len UNION ALL SELECT 'month', 7) AS g
    WHERE true
    ON CONFLICT (measure, area, grain, period, hours) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tip_hours_delete AFTER DELETE ON tips
WHEN OLD.acknowledged_at IS NOT NULL OR OLD.closed_at IS NOT NULL
BEGIN
    UPDATE tip_hours SET n = n - 1
    WHERE measure = 'ack' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.acknowledged_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    DELETE FROM tip_hours
    WHERE n = 0 AND measure = 'ack' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.acknowledged_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    UPDATE tip_hours SET n = n - 1
    WHERE measure = 'close' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.closed_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    DELETE FROM tip_hours
    WHERE n = 0 AND measure = 'close' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.closed_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
END;

CREATE TRIGGER tip_hours_update
AFTER UPDATE OF created_at, acknowledged_at, closed_at, area ON tips
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.acknowledged_at IS NOT NEW.acknowledged_at
    OR OLD.closed_at IS NOT NEW.closed_at OR OLD.area IS NOT NEW.area
BEGIN
    UPDATE tip_hours SET n = n - 1
    WHERE measure = 'ack' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.acknowledged_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    DELETE FROM tip_hours
    WHERE n = 0 AND measure = 'ack' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.acknowledged_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    UPDATE tip_hours SET n = n - 1
    WHERE measure = 'close' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.closed_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    DELETE FROM tip_hours
    WHERE n = 0 AND measure = 'close' AND area IN ('*', coalesce(OLD.area, ''))
        AND grain IN ('day', 'month')
        AND period IN (substr(OLD.created_at, 1, 10), substr(OLD.created_at, 1, 7))
        AND hours = max(0, strftime('%s', OLD.closed_at)
                        - strftime('%s', OLD.created_at)) / 3600.0;
    INSERT INTO tip_hours (measure, area, grain, period, hours, n)
    SELECT c.measure, a.area, g.grain, substr(NEW.created_at, 1, g.len), c.hours, 1
    FROM (SELECT 'ack' AS measure, max(0, strftime('%s', NEW.acknowledged_at)
                 - strftime('%s', NEW.created_at)) / 3600.0 AS hours
          WHERE NEW.acknowledged_at IS NOT NULL
          UNION ALL
          SELECT 'close', max(0, strftime('%s', NEW.closed_at)
                 - strftime('%s', NEW.created_at)) / 3600.0
          WHERE NEW.closed_at IS NOT NULL) AS c,
         (SELECT '*' AS area UNION ALL SELECT coalesce(NEW.area, '')) AS a,
         (SELECT 'day' AS grain, 10 AS len UNION ALL SELECT 'month', 7) AS g
    WHERE true
    ON CONFLICT (measure, area, grain, period, hours) DO UPDATE SET n = n + 1;
END;
