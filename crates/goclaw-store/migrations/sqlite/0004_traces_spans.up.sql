-- Traces of agent runs and their spans (LLM calls, tool calls, embeddings, events).

CREATE TABLE traces (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    parent_trace_id     TEXT,
    agent_id            TEXT REFERENCES agents (id) ON DELETE SET NULL,
    session_key         TEXT NOT NULL DEFAULT '',
    run_id              TEXT NOT NULL DEFAULT '',
    user_id             TEXT NOT NULL DEFAULT '',
    channel             TEXT NOT NULL DEFAULT '',
    name                TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'running',
    start_time          TEXT NOT NULL,
    end_time            TEXT,
    duration_ms         INTEGER,
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens   INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens  INTEGER NOT NULL DEFAULT 0,
    total_cost          REAL NOT NULL DEFAULT 0,
    span_count          INTEGER NOT NULL DEFAULT 0,
    llm_call_count      INTEGER NOT NULL DEFAULT 0,
    tool_call_count     INTEGER NOT NULL DEFAULT 0,
    error               TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}',
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX traces_tenant_created_idx ON traces (tenant_id, created_at);
CREATE INDEX traces_parent_idx ON traces (parent_trace_id);
CREATE INDEX traces_session_idx ON traces (tenant_id, session_key);

CREATE TABLE spans (
    id                  TEXT PRIMARY KEY NOT NULL,
    trace_id            TEXT NOT NULL REFERENCES traces (id) ON DELETE CASCADE,
    parent_span_id      TEXT,
    span_type           TEXT NOT NULL,
    name                TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL DEFAULT 'running',
    start_time          TEXT NOT NULL,
    end_time            TEXT,
    duration_ms         INTEGER,
    model               TEXT NOT NULL DEFAULT '',
    provider            TEXT NOT NULL DEFAULT '',
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens   INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens  INTEGER NOT NULL DEFAULT 0,
    tool_name           TEXT,
    tool_call_id        TEXT,
    input_preview       TEXT,
    output_preview      TEXT,
    error               TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX spans_trace_idx ON spans (trace_id, start_time);
