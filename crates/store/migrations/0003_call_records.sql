-- One row per call attempt, written when it ends.
CREATE TABLE call_records (
    id           INTEGER PRIMARY KEY,
    call_id      TEXT NOT NULL,
    caller       TEXT NOT NULL,
    callee       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,  -- unix milliseconds
    answered_at  INTEGER,
    ended_at     INTEGER NOT NULL,
    disposition  TEXT NOT NULL
        CHECK (disposition IN ('answered', 'busy', 'no-answer', 'cancelled', 'failed')),
    hangup_by    TEXT NOT NULL CHECK (hangup_by IN ('caller', 'callee', 'system')),
    caller_codec TEXT,
    callee_codec TEXT,
    sip_code     INTEGER NOT NULL,
    reason       TEXT NOT NULL
) STRICT;

CREATE INDEX call_records_by_start ON call_records (started_at);
