-- Long polling loses nothing to a crash (storage/updates_seen.py, bot/polling.py). getUpdates
-- confirms a batch to Telegram at the next call, before its updates are handled: a process
-- killed with updates queued or in hand lost them for good (Telegram never sends a confirmed
-- update again), although their claims said 'handling'. The claim now carries the update itself,
-- sealed with the content key (table updates_seen, row '<bot>:<update_id>', field 'payload':
-- it holds the resident's message, name and id), from the claim until the update was handled or
-- given back; the next start hands a dead process's updates to the handlers again, in order.
-- NULL once done (and for webhook claims: Telegram redelivers an unanswered webhook itself).
ALTER TABLE updates_seen ADD COLUMN payload BLOB;
