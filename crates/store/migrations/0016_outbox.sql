-- E-mail waiting to go, and what became of it: written in the same transaction as what
-- it tells of (a voicemail message), so a crash loses neither; sent by the mailer, which
-- retries a failed send later and keeps the error for the admin panel.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- A file beside the database, relative to the data directory, sent attached.
    attachment TEXT,
    attachment_name TEXT,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
