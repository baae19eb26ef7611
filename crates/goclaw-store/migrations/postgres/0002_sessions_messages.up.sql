-- Sessions and their append-only transcripts. `sessions.message_count` is the last `seq` given
-- out, so appending a message increments it and uses the new value in the same transaction.

CREATE TABLE sessions (
    id                UUID PRIMARY KEY,
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_key       VARCHAR(500) NOT NULL,
    agent_id          UUID REFERENCES agents (id) ON DELETE SET NULL,
    user_id           VARCHAR(255) NOT NULL DEFAULT '',
    channel           VARCHAR(100) NOT NULL DEFAULT '',
    summary           TEXT,
    model             VARCHAR(255) NOT NULL DEFAULT '',
    provider          VARCHAR(100) NOT NULL DEFAULT '',
    label             VARCHAR(255) NOT NULL DEFAULT '',
    input_tokens      BIGINT NOT NULL DEFAULT 0,
    output_tokens     BIGINT NOT NULL DEFAULT 0,
    compaction_count  INTEGER NOT NULL DEFAULT 0,
    message_count     BIGINT NOT NULL DEFAULT 0,
    metadata          JSONB NOT NULL DEFAULT '{}',
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, session_key)
);

CREATE INDEX sessions_agent_idx ON sessions (agent_id);
CREATE INDEX sessions_tenant_updated_idx ON sessions (tenant_id, updated_at DESC);

CREATE TABLE messages (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id    UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL CHECK (seq > 0),
    role          VARCHAR(20) NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content       TEXT NOT NULL DEFAULT '',
    tool_calls    JSONB,
    tool_call_id  VARCHAR(255),
    metadata      JSONB NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (session_id, seq)
);

CREATE FUNCTION messages_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'messages are append-only';
END
$$;

CREATE TRIGGER messages_append_only BEFORE UPDATE ON messages
FOR EACH ROW EXECUTE FUNCTION messages_append_only();
