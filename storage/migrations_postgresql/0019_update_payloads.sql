-- The twin of SQLite's 0019_update_payloads.sql: the claimed update, sealed, until handled.
ALTER TABLE updates_seen ADD COLUMN payload BYTEA;
