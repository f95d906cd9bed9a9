-- Webhook deliveries waiting to go, and what became of them: written in the transaction
-- of what they tell of (a call's record, a queue event, a voicemail message), so a crash
-- loses neither; sent by the deliverer, which retries a failed one later and keeps the
-- receiver's answer for the admin panel.
CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY,
    -- The receiver's URL, as the webhook settings name it.
    endpoint TEXT NOT NULL,
    -- The `webhook-id` header: the same on every try, so a receiver can drop repeats.
    message_id TEXT NOT NULL,
    event TEXT NOT NULL,
    -- What the event is about (a call's Call-ID): one subject's events go in order.
    subject TEXT NOT NULL,
    -- Order of the events as Switchboard saw them, across batches and restarts.
    ordinal INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    delivered_at INTEGER,
    given_up_at INTEGER
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
CREATE INDEX webhook_outbox_subject ON webhook_outbox (endpoint, subject, ordinal)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;
