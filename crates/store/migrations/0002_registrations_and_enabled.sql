-- Extensions can be switched off without losing their credentials.
ALTER TABLE extensions ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;

-- Write-behind copy of the registrar's bindings, restored at start-up.
CREATE TABLE registrations (
    aor        TEXT NOT NULL,
    uri        TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    cseq       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,  -- unix seconds
    transport  TEXT NOT NULL,
    source     TEXT NOT NULL,     -- ip:port the REGISTER came from
    user_agent TEXT,
    PRIMARY KEY (aor, uri)
) STRICT;
