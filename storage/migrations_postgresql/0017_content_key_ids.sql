-- The PostgreSQL twin of storage/migrations/0017_content_key_ids.sql (read that file for why):
-- the id of the content key of each sealed value (bytes 2-5 of its header) on an index, so that
-- the check at start (storage/rotation.unreadable_values) seeks the ranges between the held
-- keys instead of reading every row. `substring(x from 2 for 4)` is what storage/postgres.py
-- makes of SQLite's `substr(x, 2, 4)`.
CREATE INDEX tips_content_key ON tips ((substring(content from 2 for 4)));
CREATE INDEX tips_notify_chat_key ON tips ((substring(notify_chat from 2 for 4)));
CREATE INDEX tips_times_key ON tips ((substring(times from 2 for 4)));
CREATE INDEX tip_messages_body_key ON tip_messages ((substring(body from 2 for 4)));
CREATE INDEX outbox_timing_key ON outbox ((substring(timing from 2 for 4)));
CREATE INDEX subscribers_chat_id_key ON subscribers ((substring(chat_id from 2 for 4)));
