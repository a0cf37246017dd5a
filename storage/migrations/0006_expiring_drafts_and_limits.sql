-- Drafts expire by a clear deadline column, so that the clean-up deletes by an index instead of
-- decrypting every row; the deadline is rounded up to the hour (the exact one is inside the
-- encrypted state), and the exact time of the last step is no longer kept in clear.
ALTER TABLE drafts ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
UPDATE drafts SET expires_at = strftime('%Y-%m-%dT%H:00:00+00:00', updated_at, '+7 days', '+1 hour');
ALTER TABLE drafts DROP COLUMN updated_at;
CREATE INDEX drafts_by_expiry ON drafts (expires_at);

-- Rate-limit rows are swept by age, every kind together.
CREATE INDEX attempts_by_time ON attempts (at);
