-- No clear column singles out a resident (SPEC "Security and privacy", issue 10 points 2-4).
--
-- 1. Times in clear are rounded down to the hour: tips, their threads, the outbox, subscribers,
--    hand-overs. The exact times the product shows (a tip's arrival and last change, each thread
--    message's time) move inside the tip's ciphertexts. SQL cannot encrypt, so this migration
--    keeps the exact times of existing rows in two staging tables, `reseal_0009_tips` and
--    `reseal_0009_messages`, and the first start with the master key (storage/reseal.py, run by
--    storage.store.open_store) seals them into the ciphertexts and drops both tables, in one
--    transaction, recorded in `upgrades`.
-- 2. A tip no longer records which campaign link it came from: campaign counters keep, per
--    campaign and category, the openings and the tips, and nothing else.
-- 3. Every ciphertext of a tip is bound to the tip: its content, notification chat and times to
--    its row id and reference, each thread message to its tip and its own uid, and the receipt
--    hash by a MAC under the receipt key over (tip id, reference, hash). The same first start
--    re-encrypts the existing rows under these bindings and computes the MACs.
-- 4. The outbox keeps when a row is due and how long a worker holds it encrypted (a clear lease
--    or retry time follows a tip's arrival by seconds); rows pending at the upgrade are due at
--    once.

-- Python-side upgrade steps that ran once, by name (storage/reseal.py).
CREATE TABLE upgrades (
    name    TEXT PRIMARY KEY,
    done_at TEXT NOT NULL
) WITHOUT ROWID;

-- The exact times, until the first start with the key seals them (then dropped).
CREATE TABLE reseal_0009_tips (
    tip_id   INTEGER PRIMARY KEY,
    received TEXT NOT NULL,
    updated  TEXT NOT NULL
);
INSERT INTO reseal_0009_tips (tip_id, received, updated)
SELECT tip_id, created_at, updated_at FROM tips;

CREATE TABLE reseal_0009_messages (
    message_id INTEGER PRIMARY KEY,
    at         TEXT NOT NULL
);
INSERT INTO reseal_0009_messages (message_id, at)
SELECT message_id, created_at FROM tip_messages;

-- Campaign counters: the tips of each campaign and category become a count.
ALTER TABLE campaign_starts ADD COLUMN tips INTEGER NOT NULL DEFAULT 0;
INSERT INTO campaign_starts (campaign, category, starts, tips)
SELECT campaign, category, 0, count(*) FROM tips WHERE campaign IS NOT NULL
GROUP BY campaign, category
ON CONFLICT (campaign, category) DO UPDATE SET tips = excluded.tips;
DROP INDEX tips_by_campaign;
ALTER TABLE tips DROP COLUMN campaign;

-- Tips: the hour only. A reminder and an escalation follow the arrival by a fixed delay, so
-- their own hour could narrow the arrival down (an urgent tip reminded in the next hour arrived
-- in the last quarter of this one): they record the tip's arrival hour, which says they
-- happened and nothing more.
UPDATE tips SET
    created_at = strftime('%Y-%m-%dT%H:00:00+00:00', created_at),
    updated_at = strftime('%Y-%m-%dT%H:00:00+00:00', updated_at),
    acknowledged_at = strftime('%Y-%m-%dT%H:00:00+00:00', acknowledged_at),
    reminded_at = CASE WHEN reminded_at IS NOT NULL
                       THEN strftime('%Y-%m-%dT%H:00:00+00:00', created_at) END,
    escalated_at = CASE WHEN escalated_at IS NOT NULL
                        THEN strftime('%Y-%m-%dT%H:00:00+00:00', created_at) END;

-- When a tip was closed (resolved, unfounded, transferred), to the hour, for statistics; NULL
-- while it is open (a reopened tip loses it). Closed tips of before get their last change.
ALTER TABLE tips ADD COLUMN closed_at TEXT;
UPDATE tips SET closed_at = updated_at WHERE status IN ('resolved', 'unfounded', 'transferred');

-- times: encrypted JSON {"received", "updated"} (exact), bound to the tip.
-- receipt_mac: HMAC (receipt key) binding receipt_hash to this tip; checked on every lookup.
ALTER TABLE tips ADD COLUMN times BLOB;
ALTER TABLE tips ADD COLUMN receipt_mac BLOB;

UPDATE tip_messages SET created_at = strftime('%Y-%m-%dT%H:00:00+00:00', created_at);

UPDATE tip_assignees SET given_at = strftime('%Y-%m-%dT%H:00:00+00:00', given_at)
WHERE given_at IS NOT NULL;

UPDATE subscribers SET created_at = strftime('%Y-%m-%dT%H:00:00+00:00', created_at);

-- Outbox: cards, notices and reminders are dated by their tip's arrival hour (they follow it),
-- the others by their own hour; a row's sending time is the hour it was queued.
UPDATE outbox SET created_at = CASE
    WHEN kind IN ('card', 'notice', 'reminder')
    THEN (SELECT t.created_at FROM tips t WHERE t.tip_id = outbox.tip_id)
    ELSE strftime('%Y-%m-%dT%H:00:00+00:00', created_at) END;
UPDATE outbox SET sent_at = created_at WHERE sent_at IS NOT NULL;
DROP INDEX outbox_due;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
ALTER TABLE outbox DROP COLUMN claimed_until;
-- timing: NULL = due now and free; else encrypted JSON {"due": unix time} (a retry) or
-- {"until": unix time} (claimed by a worker), bound to the tip and the row.
ALTER TABLE outbox ADD COLUMN timing BLOB;
CREATE INDEX outbox_pending ON outbox (outbox_id) WHERE state = 'pending';
