-- A deployment may add languages (TIPBOT_LANGUAGES_DIR, one <code>.po each), so a chosen
-- language is no longer only 'vi' or 'en': preferences and subscribers accept any language code
-- of the catalogs' shape (2 or 3 lower-case letters; which catalogs exist is the code's business).
--
-- SQLite cannot change a CHECK in place. preferences is rebuilt (nothing refers to it).
-- subscribers is referred to by broadcast_recipients (ON DELETE SET NULL), and foreign keys stay
-- on inside a migration, so dropping it would cut those links: they are kept aside and put back.

CREATE TABLE preferences_new (
    subject  BLOB PRIMARY KEY,
    language TEXT NOT NULL CHECK (language GLOB '[a-z][a-z]' OR language GLOB '[a-z][a-z][a-z]')
) WITHOUT ROWID;
INSERT INTO preferences_new (subject, language) SELECT subject, language FROM preferences;
DROP TABLE preferences;
ALTER TABLE preferences_new RENAME TO preferences;

CREATE TEMP TABLE kept_subscriber_links AS
    SELECT recipient_id, subscriber_id FROM broadcast_recipients WHERE subscriber_id IS NOT NULL;
CREATE TABLE subscribers_new (
    subscriber_id INTEGER PRIMARY KEY,
    subject       BLOB    NOT NULL UNIQUE,
    chat_id       BLOB    NOT NULL,
    language      TEXT    NOT NULL
                  CHECK (language GLOB '[a-z][a-z]' OR language GLOB '[a-z][a-z][a-z]'),
    created_at    TEXT    NOT NULL
);
INSERT INTO subscribers_new (subscriber_id, subject, chat_id, language, created_at)
    SELECT subscriber_id, subject, chat_id, language, created_at FROM subscribers;
DROP TABLE subscribers;
ALTER TABLE subscribers_new RENAME TO subscribers;
UPDATE broadcast_recipients
    SET subscriber_id = (SELECT k.subscriber_id FROM kept_subscriber_links AS k
                         WHERE k.recipient_id = broadcast_recipients.recipient_id)
    WHERE recipient_id IN (SELECT recipient_id FROM kept_subscriber_links);
DROP TABLE kept_subscriber_links;
