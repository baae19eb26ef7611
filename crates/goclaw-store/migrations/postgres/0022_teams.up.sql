-- Delegation links, subagent tasks and team task boards.
--
-- `agent_links`: who may delegate to whom. A link from `source_agent_id` to `target_agent_id`
-- is read by its `direction`: `outbound` lets the source delegate to the target, `inbound` the
-- target to the source, `bidirectional` both; only `active` links count. One link per ordered
-- pair, never from an agent to itself.
--
-- `subagent_tasks`: one row per spawned subagent run, `running` until it ends; a row still
-- `running` when the gateway starts was left by a process that died (the partial index finds
-- them).
--
-- `agent_teams` / `agent_team_members`: a team is a lead agent and its members; the name is
-- unique in its tenant.
--
-- `team_tasks`: the team's board. `task_number` counts per team from 1; `blocked_by` holds the
-- ids of the team's tasks this one waits for; a claimed task carries its owner and a lock that
-- `lock_expires_at` ends unless progress renews it. `team_task_comments`: notes and blockers
-- written on a task.

CREATE TABLE agent_links (
    id               UUID PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source_agent_id  UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    target_agent_id  UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    direction        VARCHAR(20) NOT NULL DEFAULT 'outbound'
                     CHECK (direction IN ('outbound', 'inbound', 'bidirectional')),
    max_concurrent   INTEGER NOT NULL DEFAULT 3,
    settings         JSONB NOT NULL DEFAULT '{}',
    status           VARCHAR(20) NOT NULL DEFAULT 'active',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source_agent_id, target_agent_id),
    CHECK (source_agent_id <> target_agent_id)
);

CREATE INDEX agent_links_target_idx ON agent_links (target_agent_id);

CREATE TABLE subagent_tasks (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    parent_agent_key    TEXT NOT NULL,
    parent_session_key  TEXT NOT NULL,
    session_key         TEXT NOT NULL,
    subject             TEXT NOT NULL DEFAULT '',
    description         TEXT NOT NULL DEFAULT '',
    status              VARCHAR(20) NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
    result              TEXT,
    depth               INTEGER NOT NULL DEFAULT 1,
    model               TEXT NOT NULL DEFAULT '',
    provider            TEXT NOT NULL DEFAULT '',
    iterations          INTEGER NOT NULL DEFAULT 0,
    input_tokens        BIGINT NOT NULL DEFAULT 0,
    output_tokens       BIGINT NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at        TIMESTAMPTZ,
    metadata            JSONB NOT NULL DEFAULT '{}'
);

CREATE INDEX subagent_tasks_parent_idx ON subagent_tasks (tenant_id, parent_session_key, created_at);
CREATE INDEX subagent_tasks_running_idx ON subagent_tasks (created_at) WHERE status = 'running';

CREATE TABLE agent_teams (
    id             UUID PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    lead_agent_id  UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    settings       JSONB NOT NULL DEFAULT '{}',
    status         VARCHAR(20) NOT NULL DEFAULT 'active',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE agent_team_members (
    team_id    UUID NOT NULL REFERENCES agent_teams (id) ON DELETE CASCADE,
    agent_id   UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    role       VARCHAR(20) NOT NULL DEFAULT 'member' CHECK (role IN ('lead', 'member')),
    joined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, agent_id)
);

CREATE INDEX agent_team_members_agent_idx ON agent_team_members (agent_id);

CREATE TABLE team_tasks (
    id                UUID PRIMARY KEY,
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    team_id           UUID NOT NULL REFERENCES agent_teams (id) ON DELETE CASCADE,
    task_number       INTEGER NOT NULL,
    subject           TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    status            VARCHAR(20) NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'in_progress', 'in_review', 'completed',
                                        'failed', 'cancelled', 'blocked', 'stale')),
    owner_agent_id    UUID REFERENCES agents (id) ON DELETE SET NULL,
    blocked_by        UUID[] NOT NULL DEFAULT '{}',
    priority          INTEGER NOT NULL DEFAULT 0,
    result            TEXT,
    user_id           TEXT NOT NULL DEFAULT '',
    channel           TEXT NOT NULL DEFAULT '',
    chat_id           TEXT NOT NULL DEFAULT '',
    parent_id         UUID REFERENCES team_tasks (id) ON DELETE SET NULL,
    locked_at         TIMESTAMPTZ,
    lock_expires_at   TIMESTAMPTZ,
    progress_percent  INTEGER NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
    progress_step     TEXT,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at      TIMESTAMPTZ,
    metadata          JSONB NOT NULL DEFAULT '{}',
    UNIQUE (team_id, task_number)
);

CREATE INDEX team_tasks_team_status_idx ON team_tasks (team_id, status);
CREATE INDEX team_tasks_lock_idx ON team_tasks (lock_expires_at) WHERE status = 'in_progress';

CREATE TABLE team_task_comments (
    id            UUID PRIMARY KEY,
    task_id       UUID NOT NULL REFERENCES team_tasks (id) ON DELETE CASCADE,
    agent_id      UUID REFERENCES agents (id) ON DELETE SET NULL,
    user_id       TEXT NOT NULL DEFAULT '',
    comment_type  VARCHAR(20) NOT NULL DEFAULT 'note' CHECK (comment_type IN ('note', 'blocker')),
    content       TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX team_task_comments_task_idx ON team_task_comments (task_id, created_at);
