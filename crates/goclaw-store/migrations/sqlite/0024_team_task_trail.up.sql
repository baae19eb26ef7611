-- What a team's board keeps beside its tasks, with GoClaw's column names: the audit trail of
-- every change to a task (`team_task_events`), the workspace files attached to tasks
-- (`team_task_attachments`, one row per task and path), and a task's follow-up reminder (the
-- `followup_*` columns: when the next is due, how many were sent and may be, the text and the
-- chat to remind). Both tables go with their task (ON DELETE CASCADE).

CREATE TABLE team_task_events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id     TEXT NOT NULL REFERENCES team_tasks (id) ON DELETE CASCADE,
    team_id     TEXT NOT NULL REFERENCES agent_teams (id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    actor_type  TEXT NOT NULL CHECK (actor_type IN ('human', 'agent', 'system')),
    actor_id    TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX team_task_events_task_idx ON team_task_events (task_id, created_at);
CREATE INDEX team_task_events_team_idx ON team_task_events (team_id, created_at);

CREATE TABLE team_task_attachments (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id               TEXT NOT NULL REFERENCES team_tasks (id) ON DELETE CASCADE,
    team_id               TEXT NOT NULL REFERENCES agent_teams (id) ON DELETE CASCADE,
    chat_id               TEXT NOT NULL DEFAULT '',
    path                  TEXT NOT NULL,
    file_size             INTEGER NOT NULL DEFAULT 0,
    mime_type             TEXT NOT NULL DEFAULT '',
    created_by_agent_id   TEXT REFERENCES agents (id) ON DELETE SET NULL,
    created_by_sender_id  TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (task_id, path)
);

CREATE INDEX team_task_attachments_team_idx ON team_task_attachments (team_id);

ALTER TABLE team_tasks ADD COLUMN followup_at TEXT;
ALTER TABLE team_tasks ADD COLUMN followup_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_tasks ADD COLUMN followup_max INTEGER NOT NULL DEFAULT 0;
ALTER TABLE team_tasks ADD COLUMN followup_message TEXT;
ALTER TABLE team_tasks ADD COLUMN followup_channel TEXT;
ALTER TABLE team_tasks ADD COLUMN followup_chat_id TEXT;

CREATE INDEX team_tasks_followup_idx ON team_tasks (followup_at) WHERE followup_at IS NOT NULL;
