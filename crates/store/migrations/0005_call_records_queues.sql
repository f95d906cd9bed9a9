-- Queue calls in the call log: the queue dialled, the agent who answered, and the
-- caller's priority there (a VIP list's; 0 for everyone else), so the log can show
-- "only priority calls" and calls per agent.
ALTER TABLE call_records ADD COLUMN queue TEXT;
ALTER TABLE call_records ADD COLUMN answered_by TEXT;
ALTER TABLE call_records ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;

CREATE INDEX call_records_by_queue ON call_records (queue, started_at);
