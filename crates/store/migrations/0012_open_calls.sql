-- Calls in progress, so that a call cut by a crash or kill still reaches the call log:
-- a row is deleted in the transaction that writes the call's record, and rows left at
-- the next start become "interrupted" records. `key` is the engine's number for the
-- call, unique while the server runs; `started_at` in unix milliseconds.
CREATE TABLE open_calls (
    key INTEGER PRIMARY KEY NOT NULL,
    call_id TEXT NOT NULL,
    caller TEXT NOT NULL,
    callee TEXT NOT NULL,
    started_at INTEGER NOT NULL
);

-- "interrupted" joins the outcomes a record may have. SQLite cannot change a CHECK in
-- place, so the table is made anew and the records copied over.
CREATE TABLE call_records_new (
    id           INTEGER PRIMARY KEY,
    call_id      TEXT NOT NULL,
    caller       TEXT NOT NULL,
    callee       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,  -- unix milliseconds
    answered_at  INTEGER,
    ended_at     INTEGER NOT NULL,
    disposition  TEXT NOT NULL CHECK (disposition IN
        ('answered', 'busy', 'no-answer', 'cancelled', 'failed', 'interrupted')),
    hangup_by    TEXT NOT NULL CHECK (hangup_by IN ('caller', 'callee', 'system')),
    caller_codec TEXT,
    callee_codec TEXT,
    sip_code     INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    queue        TEXT,
    answered_by  TEXT,
    priority     INTEGER NOT NULL DEFAULT 0,
    preempted    INTEGER NOT NULL DEFAULT 0,
    scenario_path TEXT
) STRICT;

INSERT INTO call_records_new (id, call_id, caller, callee, started_at, answered_at,
    ended_at, disposition, hangup_by, caller_codec, callee_codec, sip_code, reason, queue,
    answered_by, priority, preempted, scenario_path)
SELECT id, call_id, caller, callee, started_at, answered_at, ended_at, disposition,
    hangup_by, caller_codec, callee_codec, sip_code, reason, queue, answered_by, priority,
    preempted, scenario_path
FROM call_records;

DROP TABLE call_records;
ALTER TABLE call_records_new RENAME TO call_records;
CREATE INDEX call_records_by_start ON call_records (started_at);
CREATE INDEX call_records_by_queue ON call_records (queue, started_at);
