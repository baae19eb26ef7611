DELETE FROM agent_team_members WHERE role = 'reviewer';

CREATE TABLE agent_team_members_prev (
    team_id    TEXT NOT NULL REFERENCES agent_teams (id) ON DELETE CASCADE,
    agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('lead', 'member')),
    joined_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (team_id, agent_id)
);

INSERT INTO agent_team_members_prev (team_id, agent_id, role, joined_at)
SELECT team_id, agent_id, role, joined_at FROM agent_team_members;

DROP TABLE agent_team_members;
ALTER TABLE agent_team_members_prev RENAME TO agent_team_members;
CREATE INDEX agent_team_members_agent_idx ON agent_team_members (agent_id);
