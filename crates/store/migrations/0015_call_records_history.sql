-- What happened to a call beyond its outcome: who transferred it to whom, who answered,
-- and when (minutes:seconds after it started).
ALTER TABLE call_records ADD COLUMN history TEXT;
