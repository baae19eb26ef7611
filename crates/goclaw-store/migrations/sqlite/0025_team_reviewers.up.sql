-- GoClaw's third team role: a reviewer, who judges the results members hand in for review.
-- SQLite cannot change a CHECK constraint in place, so the members table is rebuilt with the
-- same rows (nothing references it).

CREATE TABLE agent_team_members_next (
    team_id    TEXT NOT NULL REFERENCES agent_teams (id) ON DELETE CASCADE,
    agent_id   TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('lead', 'member', 'reviewer')),
    joined_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (team_id, agent_id)
);

INSERT INTO agent_team_members_next (team_id, agent_id, role, joined_at)
SELECT team_id, agent_id, role, joined_at FROM agent_team_members;

DROP TABLE agent_team_members;
ALTER TABLE agent_team_members_next RENAME TO agent_team_members;
CREATE INDEX agent_team_members_agent_idx ON agent_team_members (agent_id);
