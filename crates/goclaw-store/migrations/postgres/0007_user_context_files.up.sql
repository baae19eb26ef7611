-- Per-user context files: a user's own copy of an agent's context file (every file of an
-- `open` agent, USER.md of a `predefined` one), used in that user's prompt over the agent's.

CREATE TABLE user_context_files (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id    UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id     VARCHAR(255) NOT NULL,
    file_name   VARCHAR(255) NOT NULL,
    content     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (agent_id, user_id, file_name)
);
