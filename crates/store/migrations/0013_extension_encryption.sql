-- An extension's encryption policy: "allow" (TLS and SRTP when its phone offers them)
-- or "require" (registration and calls over TLS only, audio in SRTP only).
ALTER TABLE extensions ADD COLUMN encryption TEXT NOT NULL DEFAULT 'allow'
    CHECK (encryption IN ('allow', 'require'));
