-- Access that ends when it should (SPEC "Officer", "Admin" /invite).
--
-- Invites can end before they expire: revoked by an admin in /invite, or dead because their
-- creator was deactivated or demoted. An ended invite is never open again.
ALTER TABLE invites ADD COLUMN ended_at TEXT;
ALTER TABLE invites ADD COLUMN ended_by INTEGER;  -- the admin who revoked it (staff id)
ALTER TABLE invites ADD COLUMN end_reason TEXT
    CHECK (end_reason IS NULL OR end_reason IN ('revoked', 'creator_deactivated',
                                                'creator_demoted'));
CREATE INDEX invites_by_creator ON invites (created_by);

-- Who handed a tip to whom, and when. Nobody hands a tip to themselves (also refused by the
-- code, this is the last line). Rows of before this migration have no giver recorded.
ALTER TABLE tip_assignees ADD COLUMN given_by INTEGER
    CHECK (given_by IS NULL OR given_by <> staff_id);
ALTER TABLE tip_assignees ADD COLUMN given_at TEXT;
CREATE INDEX tip_assignees_by_staff ON tip_assignees (staff_id);

-- Hand-overs made before this migration were never ended. Keep one only when the audit log
-- shows it was given by someone else and that, since then, the tip did not move to another
-- area and the holder's areas were not changed (in /officers or by `officers add`) nor the
-- holder deactivated, and end every other one (the tip's area officers still see the tip).
DELETE FROM tip_assignees
WHERE staff_id IN (SELECT user_id FROM staff WHERE active = 0 OR is_officer = 0)
   OR NOT EXISTS (
        SELECT 1 FROM audit_log g
        WHERE g.action = 'reassign' AND g.tip_id = tip_assignees.tip_id
          AND g.actor_id <> tip_assignees.staff_id
          AND CASE WHEN json_valid(g.detail) THEN json_extract(g.detail, '$.officer') END
              = tip_assignees.staff_id
          AND NOT EXISTS (
              SELECT 1 FROM audit_log l
              WHERE l.audit_id > g.audit_id
                AND (
                    (l.action = 'reassign' AND l.tip_id = g.tip_id
                     AND CASE WHEN json_valid(l.detail)
                              THEN json_extract(l.detail, '$.area') END IS NOT NULL)
                    OR (l.action = 'staff'
                        AND CASE WHEN json_valid(l.detail)
                                 THEN json_extract(l.detail, '$.target') END
                            = tip_assignees.staff_id
                        AND CASE WHEN json_valid(l.detail)
                                 THEN json_extract(l.detail, '$.change') END
                            IN ('areas', 'add (command line)', 'deactivate'))
                )
          )
   );

-- Open invites of creators already deactivated die now, as they would have at the time.
-- (A creator no longer an admin, demoted or out of TIPBOT_ADMIN_IDS, is checked when the
-- link is opened: the permanent admins are known only to the running bot.)
UPDATE invites
SET ended_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), end_reason = 'creator_deactivated'
WHERE used_by IS NULL AND ended_at IS NULL
  AND created_by IN (SELECT user_id FROM staff WHERE active = 0);
