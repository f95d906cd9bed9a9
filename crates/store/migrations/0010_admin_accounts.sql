-- Who may log in to the admin panel. Kept apart from the settings, which a
-- configuration import replaces whole: an import never changes the admin password.
CREATE TABLE admin_accounts (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);
