-- Finding 1 of the review of 2026-12-03: a stolen file linked "fully anonymous" tips to their
-- author's hash and to each other, and dated them. Each tip added a row (subject, 'tip', hour)
-- to `attempts`, an ordinary rowid table, in the tip's own transaction: the n-th such row was
-- the n-th tip, so two tips of one person shared a hash, and the same hash's wrong receipt
-- codes, with their exact times, dated them to the second.
--
-- Now (storage/ratelimits.py) a person is one row per limit, WITHOUT ROWID (ordered by the
-- hash: no row number), rewritten in place at each count, and no row holds a time in clear:
-- its counts per unit of time are one value sealed with the content key, bound to the row,
-- always of the same length whatever it counts.
--
-- tip_limits: a person's tips of the last 25 hours, per hour (TIPBOT_MAX_TIPS_PER_DAY). The
-- subject is their pseudonym under a key of its own (purpose 'tip_limit', created at the next
-- start), which no other table uses.
CREATE TABLE tip_limits (
    subject BLOB PRIMARY KEY,
    counts  BLOB NOT NULL
) WITHOUT ROWID;

-- attempts: a person's wrong receipt codes of the last 11 minutes, per minute. The subject is
-- the rate-limit pseudonym of 'receipt:<id>', not the flood count's hash of the id.
--
-- SQL cannot seal, so the rows there were go: the tips' counts start again at the upgrade
-- (a person may send up to TIPBOT_MAX_TIPS_PER_DAY tips more that day), and so do the wrong
-- codes (10 minutes' worth at most). secure_delete zeroes the dropped pages, and the checkpoint
-- after the migrations (storage/database.py) writes them over the old ones in the file.
DROP TABLE attempts;
CREATE TABLE attempts (
    subject BLOB PRIMARY KEY,
    counts  BLOB NOT NULL
) WITHOUT ROWID;
