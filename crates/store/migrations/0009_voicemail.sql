-- Voicemail messages. The audio is a WAV file beside the database
-- (voicemail/<mailbox>/<id>.wav); this row is what makes it a message.
CREATE TABLE voicemail_messages (
    id INTEGER PRIMARY KEY,
    mailbox TEXT NOT NULL,
    caller TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    heard INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX voicemail_messages_mailbox ON voicemail_messages (mailbox, id);
