-- GoClaw's third team role: a reviewer, who judges the results members hand in for review.

ALTER TABLE agent_team_members DROP CONSTRAINT agent_team_members_role_check;
ALTER TABLE agent_team_members ADD CONSTRAINT agent_team_members_role_check
    CHECK (role IN ('lead', 'member', 'reviewer'));
