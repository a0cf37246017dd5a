-- One conversation store (storage/conversations.py): an officer's pending reply or transfer is
-- now a conversation like the others, in `drafts` (encrypted, keyed by the conversation
-- pseudonym, hour-rounded clear expiry), so the table that kept it with the officer's id and the
-- exact time in clear goes. A pending action is minutes long (it lapses after 15 minutes); one
-- in progress at the upgrade is dropped, and the officer's next message gets the same answer as
-- when their action has lapsed.
DROP TABLE staff_actions;
