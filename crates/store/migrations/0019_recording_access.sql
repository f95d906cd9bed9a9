-- Who listened to or downloaded which call recording, and when (unix milliseconds).
CREATE TABLE recording_access (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    recording TEXT NOT NULL,
    call_id TEXT NOT NULL,
    action TEXT NOT NULL,
    who TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX call_records_recording ON call_records (recording) WHERE recording IS NOT NULL;
