-- The PostgreSQL twin of storage/migrations/0018_day_counts.sql (read that file for what the
-- table holds): how many tips arrived on each UTC day, by area, category and status ('kind',
-- per area and for every area '*') and by area ('area'), kept by triggers on tips.
CREATE TABLE tip_days (
    dim      TEXT   NOT NULL CHECK (dim IN ('kind', 'area')),
    area     TEXT   NOT NULL,
    day      TEXT   NOT NULL,
    category TEXT   NOT NULL,
    status   TEXT   NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (dim, area, day, category, status)
);

INSERT INTO tip_days (dim, area, day, category, status, n)
SELECT r.dim, r.area, substr(t.created_at, 1, 10), r.category, r.status, count(*)
FROM tips t
CROSS JOIN LATERAL (VALUES ('kind', coalesce(t.area, ''), t.category, t.status),
                           ('kind', '*', t.category, t.status),
                           ('area', coalesce(t.area, ''), '', '')) AS r(dim, area, category, status)
GROUP BY 1, 2, 3, 4, 5;

-- Adds `delta` (1 or -1) to the 3 rows of one tip (its kind in its area and in '*', its
-- area); a row whose count falls to 0 goes.
CREATE FUNCTION tip_days_add(p_created TEXT, p_area TEXT, p_category TEXT, p_status TEXT,
                             p_delta INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tip_days AS d (dim, area, day, category, status, n)
    SELECT r.dim, r.area, substr(p_created, 1, 10), r.category, r.status, p_delta
    FROM (VALUES ('kind', coalesce(p_area, ''), p_category, p_status),
                 ('kind', '*', p_category, p_status),
                 ('area', coalesce(p_area, ''), '', '')) AS r(dim, area, category, status)
    ON CONFLICT (dim, area, day, category, status) DO UPDATE SET n = d.n + excluded.n;
    IF p_delta < 0 THEN
        DELETE FROM tip_days d
        WHERE d.n = 0 AND d.dim = 'kind' AND d.area IN ('*', coalesce(p_area, ''))
          AND d.day = substr(p_created, 1, 10) AND d.category = p_category
          AND d.status = p_status;
        DELETE FROM tip_days d
        WHERE d.n = 0 AND d.dim = 'area' AND d.area = coalesce(p_area, '')
          AND d.day = substr(p_created, 1, 10) AND d.category = '' AND d.status = '';
    END IF;
END;
$$;

CREATE FUNCTION tip_days_count_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tip_days_add(NEW.created_at, NEW.area, NEW.category, NEW.status, 1);
    RETURN NULL;
END;
$$;

CREATE FUNCTION tip_days_count_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tip_days_add(OLD.created_at, OLD.area, OLD.category, OLD.status, -1);
    RETURN NULL;
END;
$$;

CREATE FUNCTION tip_days_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tip_days_add(OLD.created_at, OLD.area, OLD.category, OLD.status, -1);
    PERFORM tip_days_add(NEW.created_at, NEW.area, NEW.category, NEW.status, 1);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tip_days_insert AFTER INSERT ON tips
    FOR EACH ROW EXECUTE FUNCTION tip_days_count_in();
CREATE TRIGGER tip_days_delete AFTER DELETE ON tips
    FOR EACH ROW EXECUTE FUNCTION tip_days_count_out();
CREATE TRIGGER tip_days_update
    AFTER UPDATE OF created_at, category, area, status ON tips
    FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.category IS DISTINCT FROM NEW.category
          OR OLD.area IS DISTINCT FROM NEW.area OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION tip_days_move();
