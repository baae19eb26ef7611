DELETE FROM agent_team_members WHERE role = 'reviewer';
ALTER TABLE agent_team_members DROP CONSTRAINT agent_team_members_role_check;
ALTER TABLE agent_team_members ADD CONSTRAINT agent_team_members_role_check
    CHECK (role IN ('lead', 'member'));
