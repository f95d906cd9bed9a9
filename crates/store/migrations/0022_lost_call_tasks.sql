-- Lost-call tasks (callers who gave up waiting, called back by the queue) are kept
-- beside callers' own callback requests; a task is dropped at its expiry.
ALTER TABLE callback_requests ADD COLUMN expires_at INTEGER;
