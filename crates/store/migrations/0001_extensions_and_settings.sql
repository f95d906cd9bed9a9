-- Extensions carry digest HA1 hashes only; passwords are never stored.
CREATE TABLE extensions (
    number       TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    ha1_md5      TEXT NOT NULL,
    ha1_sha256   TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
