-- The twin of SQLite's 0020_sealed_limits.sql: a person's tips a day and wrong receipt codes
-- as one row per limit (the pseudonym, and its counts per hour or minute sealed with the
-- content key), no clear time and no row per tip. The rows there were go (SQL cannot seal):
-- daily counts start again at the upgrade.
CREATE TABLE tip_limits (
    subject BYTEA PRIMARY KEY,
    counts  BYTEA NOT NULL
);

DROP TABLE attempts;
CREATE TABLE attempts (
    subject BYTEA PRIMARY KEY,
    counts  BYTEA NOT NULL
);
