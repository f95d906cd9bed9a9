//! Admin panel accounts: a name and a password hash (the hashing is the server's).

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};

impl Store {
    pub fn admin_password_hash(&self, username: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT password_hash FROM admin_accounts WHERE username = ?1",
                [username],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Sets (or creates the account with) a new password hash; `at` in unix ms.
    pub fn set_admin_password_hash(&mut self, username: &str, hash: &str, at: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO admin_accounts (username, password_hash, changed_at) \
             VALUES (?1, ?2, ?3) ON CONFLICT (username) DO UPDATE SET \
             password_hash = excluded.password_hash, changed_at = excluded.changed_at",
            params![username, hash, at],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_password_is_set_then_changed() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.admin_password_hash("admin").unwrap(), None);
        store.set_admin_password_hash("admin", "h1", 1).unwrap();
        store.set_admin_password_hash("admin", "h2", 2).unwrap();
        assert_eq!(
            store.admin_password_hash("admin").unwrap().as_deref(),
            Some("h2")
        );
    }
}
