-- Turns: one row per acknowledged user message, naming the run that answers it and how that
-- run ended. A turn is written with its message and ended with the run's final message, each in
-- one transaction, so turns still `queued` after a restart are the ones a crash interrupted.

CREATE TABLE turns (
    message_id       UUID PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    tenant_id        UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    session_id       UUID NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq              BIGINT NOT NULL CHECK (seq > 0),
    run_id           UUID NOT NULL,
    user_id          VARCHAR(255) NOT NULL DEFAULT '',
    idempotency_key  VARCHAR(255),
    status           VARCHAR(20) NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'completed', 'failed', 'cancelled', 'dropped')),
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX turns_idempotency_idx ON turns (tenant_id, user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- Serves finishing one message's turn, and the cascade when a session is deleted or reset.
CREATE UNIQUE INDEX turns_session_seq_idx ON turns (session_id, seq);
CREATE INDEX turns_run_idx ON turns (run_id);
CREATE INDEX turns_queued_idx ON turns (created_at) WHERE status = 'queued';
