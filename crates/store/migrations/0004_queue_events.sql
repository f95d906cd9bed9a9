-- The queue log: one row per queue event, written as it happens.
CREATE TABLE queue_events (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,   -- unix milliseconds
    queue     TEXT,               -- the queue's number
    call_id   TEXT,               -- the caller's Call-ID
    agent     TEXT,               -- the agent's extension
    event     TEXT NOT NULL CHECK (event IN (
        'join', 'ring-no-answer', 'declined', 'connect', 'complete', 'abandon', 'exit',
        'callback-requested', 'callback-placed', 'callback-completed', 'callback-failed',
        'preempt-warned', 'preempt', 'resume', 'offered-back',
        'login', 'logout', 'pause', 'unpause')),
    waited_ms INTEGER,            -- how long the caller had waited
    talk_ms   INTEGER,            -- how long the call lasted (complete)
    vip       INTEGER NOT NULL DEFAULT 0 CHECK (vip IN (0, 1)),
    detail    TEXT NOT NULL DEFAULT ''  -- position, exit reason, key, pause reason…
) STRICT;

CREATE INDEX queue_events_by_time ON queue_events (at);
CREATE INDEX queue_events_by_call ON queue_events (call_id);
