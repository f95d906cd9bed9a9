-- Callers waiting to be called back by a queue: kept from the moment the queue takes
-- the request until it is served or given up, so a restart or a crash loses none.
CREATE TABLE callback_requests (
    -- The Call-ID of the call that asked, which names the request in the queue log.
    call_id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    number TEXT NOT NULL,
    priority INTEGER NOT NULL,
    -- For a customer who called from outside: the trunk, and the office number dialled.
    trunk TEXT,
    dialled TEXT,
    requested_at INTEGER NOT NULL
);
