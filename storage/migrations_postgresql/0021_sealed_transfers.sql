-- The twin of SQLite's 0021_sealed_transfers.sql (read that file for why): the agency a tip was
-- transferred to, sealed, in its own column; the first start with TIPBOT_KEY seals the clear
-- values of `transferred_to` into it and empties them (storage/reseal.py).
ALTER TABLE tips ADD COLUMN transferred_sealed BYTEA;
CREATE INDEX tips_transferred_sealed_key ON tips ((substring(transferred_sealed from 2 for 4)));
