-- The PostgreSQL twin of storage/migrations/0016_hour_histograms.sql (read that file for what
-- the table holds): the histogram of hours to acknowledgement and to closing, by UTC day and
-- month of arrival, per area and for every area ('*'), kept by triggers on tips.
--
-- `hours` is computed as in SQLite, from whole seconds (never negative) divided as doubles,
-- so both databases hold the same values; storage/stats.py reads the partial days at a
-- window's edges from tips with the same function.
CREATE TABLE tip_hours (
    measure TEXT             NOT NULL CHECK (measure IN ('ack', 'close')),
    area    TEXT             NOT NULL,
    grain   TEXT             NOT NULL CHECK (grain IN ('day', 'month')),
    period  TEXT             NOT NULL,
    hours   DOUBLE PRECISION NOT NULL,
    n       BIGINT           NOT NULL,
    PRIMARY KEY (measure, area, grain, period, hours)
);

-- Hours from `since` to `later` (ISO texts of the *_at columns), as SQLite's
-- max(0, strftime('%s', later) - strftime('%s', since)) / 3600.0.
CREATE FUNCTION tip_hours_between(since TEXT, later TEXT) RETURNS DOUBLE PRECISION
LANGUAGE sql STABLE STRICT AS $$
    SELECT CAST(greatest(0, CAST(extract(epoch FROM CAST(later AS timestamptz)) AS BIGINT)
                          - CAST(extract(epoch FROM CAST(since AS timestamptz)) AS BIGINT))
                AS DOUBLE PRECISION) / 3600
$$;

INSERT INTO tip_hours (measure, area, grain, period, hours, n)
SELECT c.measure, CASE WHEN e.every THEN '*' ELSE c.area END, g.grain,
       substr(c.created_at, 1, g.len), c.hours, count(*)
FROM (SELECT 'ack' AS measure, coalesce(area, '') AS area, created_at,
             tip_hours_between(created_at, acknowledged_at) AS hours
      FROM tips WHERE acknowledged_at IS NOT NULL
      UNION ALL
      SELECT 'close', coalesce(area, ''), created_at, tip_hours_between(created_at, closed_at)
      FROM tips WHERE closed_at IS NOT NULL) AS c
CROSS JOIN (VALUES (false), (true)) AS e(every)
CROSS JOIN (VALUES ('day', 10), ('month', 7)) AS g(grain, len)
GROUP BY 1, 2, 3, 4, 5;

-- Adds `delta` (1 or -1) to the up to 8 rows of one tip (each measure that has a time, in its
-- area and in '*', by day and by month); a row whose count falls to 0 goes.
CREATE FUNCTION tip_hours_add(p_created TEXT, p_acknowledged TEXT, p_closed TEXT,
                              p_area TEXT, p_delta INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tip_hours AS h (measure, area, grain, period, hours, n)
    SELECT c.measure, a.area, g.grain, substr(p_created, 1, g.len), c.hours, p_delta
    FROM (SELECT 'ack' AS measure, tip_hours_between(p_created, p_acknowledged) AS hours
          WHERE p_acknowledged IS NOT NULL
          UNION ALL
          SELECT 'close', tip_hours_between(p_created, p_closed)
          WHERE p_closed IS NOT NULL) AS c
    CROSS JOIN (VALUES ('*'), (coalesce(p_area, ''))) AS a(area)
    CROSS JOIN (VALUES ('day', 10), ('month', 7)) AS g(grain, len)
    ON CONFLICT (measure, area, grain, period, hours) DO UPDATE SET n = h.n + excluded.n;
    IF p_delta < 0 THEN
        DELETE FROM tip_hours h
        WHERE h.n = 0 AND h.area IN ('*', coalesce(p_area, ''))
          AND h.grain IN ('day', 'month')
          AND h.period IN (substr(p_created, 1, 10), substr(p_created, 1, 7))
          AND ((h.measure = 'ack' AND h.hours = tip_hours_between(p_created, p_acknowledged))
               OR (h.measure = 'close' AND h.hours = tip_hours_between(p_created, p_closed)));
    END IF;
END;
$$;

CREATE FUNCTION tip_hours_count_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tip_hours_add(NEW.created_at, NEW.acknowledged_at, NEW.closed_at, NEW.area, 1);
    RETURN NULL;
END;
$$;

CREATE FUNCTION tip_hours_count_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tip_hours_add(OLD.created_at, OLD.acknowledged_at, OLD.closed_at, OLD.area, -1);
    RETURN NULL;
END;
$$;

CREATE FUNCTION tip_hours_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tip_hours_add(OLD.created_at, OLD.acknowledged_at, OLD.closed_at, OLD.area, -1);
    PERFORM tip_hours_add(NEW.created_at, NEW.acknowledged_at, NEW.closed_at, NEW.area, 1);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tip_hours_insert AFTER INSERT ON tips
    FOR EACH ROW
    WHEN (NEW.acknowledged_at IS NOT NULL OR NEW.closed_at IS NOT NULL)
    EXECUTE FUNCTION tip_hours_count_in();
CREATE TRIGGER tip_hours_delete AFTER DELETE ON tips
    FOR EACH ROW
    WHEN (OLD.acknowledged_at IS NOT NULL OR OLD.closed_at IS NOT NULL)
    EXECUTE FUNCTION tip_hours_count_out();
CREATE TRIGGER tip_hours_update
    AFTER UPDATE OF created_at, acknowledged_at, closed_at, area ON tips
    FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.acknowledged_at IS DISTINCT FROM NEW.acknowledged_at
          OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.area IS DISTINCT FROM NEW.area)
    EXECUTE FUNCTION tip_hours_move();
