-- Addresses the SIP guard banned, kept across restarts; `until_ms` in unix milliseconds.
CREATE TABLE bans (
    ip TEXT PRIMARY KEY NOT NULL,
    until_ms INTEGER NOT NULL,
    reason TEXT NOT NULL
);
