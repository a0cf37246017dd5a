-- Which content key each sealed value is under, on an index (issue 16: the bot's start at a
-- million tips). Bytes 2-5 of a sealed value's header are the id of the content key that sealed
-- it (storage/crypto.py). At every start the bot refuses to run while any value is under a key
-- the database no longer holds (storage/rotation.unreadable_values): without these indexes that
-- check read every row of tips three times (4-8 s at 1M tips, growing with the line's age).
-- With them it counts, per column, the values between the held keys' ids and around them: a
-- few index seeks, whatever the size (the values under a held key are never read).
--
-- The columns that grow with the line: tips (content, the resident's chat, the sealed times),
-- thread messages, the outbox and subscribers. Drafts, broadcasts and schedules stay small and
-- are counted whole. The expression must stay the one rotation.py's statements use
-- (`substr(column, 2, 4)`, a 4-byte blob); the PostgreSQL twin indexes the same bytes.
CREATE INDEX tips_content_key ON tips (substr(content, 2, 4));
CREATE INDEX tips_notify_chat_key ON tips (substr(notify_chat, 2, 4));
CREATE INDEX tips_times_key ON tips (substr(times, 2, 4));
CREATE INDEX tip_messages_body_key ON tip_messages (substr(body, 2, 4));
CREATE INDEX outbox_timing_key ON outbox (substr(timing, 2, 4));
CREATE INDEX subscribers_chat_id_key ON subscribers (substr(chat_id, 2, 4));
