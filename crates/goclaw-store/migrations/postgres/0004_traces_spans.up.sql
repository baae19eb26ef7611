-- Traces of agent runs and their spans (LLM calls, tool calls, embeddings, events).

CREATE TABLE traces (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    parent_trace_id     UUID,
    agent_id            UUID REFERENCES agents (id) ON DELETE SET NULL,
    session_key         VARCHAR(500) NOT NULL DEFAULT '',
    run_id              VARCHAR(255) NOT NULL DEFAULT '',
    user_id             VARCHAR(255) NOT NULL DEFAULT '',
    channel             VARCHAR(100) NOT NULL DEFAULT '',
    name                VARCHAR(255) NOT NULL DEFAULT '',
    status              VARCHAR(20) NOT NULL DEFAULT 'running',
    start_time          TIMESTAMPTZ NOT NULL,
    end_time            TIMESTAMPTZ,
    duration_ms         BIGINT,
    input_tokens        BIGINT NOT NULL DEFAULT 0,
    output_tokens       BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens   BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens  BIGINT NOT NULL DEFAULT 0,
    total_cost          DOUBLE PRECISION NOT NULL DEFAULT 0,
    span_count          INTEGER NOT NULL DEFAULT 0,
    llm_call_count      INTEGER NOT NULL DEFAULT 0,
    tool_call_count     INTEGER NOT NULL DEFAULT 0,
    error               TEXT,
    metadata            JSONB NOT NULL DEFAULT '{}',
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX traces_tenant_created_idx ON traces (tenant_id, created_at DESC);
CREATE INDEX traces_parent_idx ON traces (parent_trace_id);
CREATE INDEX traces_session_idx ON traces (tenant_id, session_key);

CREATE TABLE spans (
    id                  UUID PRIMARY KEY,
    trace_id            UUID NOT NULL REFERENCES traces (id) ON DELETE CASCADE,
    parent_span_id      UUID,
    span_type           VARCHAR(20) NOT NULL,
    name                VARCHAR(255) NOT NULL DEFAULT '',
    status              VARCHAR(20) NOT NULL DEFAULT 'running',
    start_time          TIMESTAMPTZ NOT NULL,
    end_time            TIMESTAMPTZ,
    duration_ms         BIGINT,
    model               VARCHAR(255) NOT NULL DEFAULT '',
    provider            VARCHAR(100) NOT NULL DEFAULT '',
    input_tokens        BIGINT NOT NULL DEFAULT 0,
    output_tokens       BIGINT NOT NULL DEFAULT 0,
    cache_read_tokens   BIGINT NOT NULL DEFAULT 0,
    cache_write_tokens  BIGINT NOT NULL DEFAULT 0,
    tool_name           VARCHAR(255),
    tool_call_id        VARCHAR(255),
    input_preview       TEXT,
    output_preview      TEXT,
    error               TEXT,
    metadata            JSONB NOT NULL DEFAULT '{}'
);

CREATE INDEX spans_trace_idx ON spans (trace_id, start_time);
