-- The agency a tip was transferred to is sealed with the content key (the review's finding 4).
-- `tips.transferred_to` held it in clear: up to 120 characters of an officer's free text, and
-- officers type details there (a name, a unit, a phone). From now on it is kept in
-- `transferred_sealed`, bound to the tip like its content (row '<tip_id>:<ref>', field
-- 'transferred_sealed'), rotated with every sealed column and counted by the check at start
-- (storage/rotation.py). SQL cannot encrypt: the first start with TIPBOT_KEY seals the values
-- already in `transferred_to` into the new column and empties the old one, in one transaction,
-- recorded in `upgrades` as '0021_seal_transfers' (storage/reseal.py). `transferred_to` stays as
-- an always-NULL column (dropping it would rewrite every row of tips in SQLite).
ALTER TABLE tips ADD COLUMN transferred_sealed BLOB;
-- The id of its content key on an index, as migration 0017 does for the other columns of tips
-- (the expression is the one rotation.py's statements use).
CREATE INDEX tips_transferred_sealed_key ON tips (substr(transferred_sealed, 2, 4));
