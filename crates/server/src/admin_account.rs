//! The admin panel's account. Its password is generated on first run and shown once;
//! the store keeps an Argon2id hash. The owner changes it in the panel, or resets it
//! from the command line on the PBX's own computer when it is lost.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use switchboard_store::{Store, StoreError};

use crate::config::{FieldError, field_error};
use crate::first_run::generate_password;

/// The admin panel's login name.
pub const ADMIN_USER: &str = "admin";
/// The shortest admin password accepted.
pub const MIN_ADMIN_PASSWORD: usize = 12;

/// Creates the admin account when the store has none; returns its password, which
/// only this call knows.
pub fn ensure_admin(store: &mut Store) -> Result<Option<String>, StoreError> {
    if store.admin_password_hash(ADMIN_USER)?.is_some() {
        return Ok(None);
    }
    reset_admin_password(store).map(Some)
}

/// Replaces the admin password with a generated one and returns it.
pub fn reset_admin_password(store: &mut Store) -> Result<String, StoreError> {
    let password = generate_password();
    store.set_admin_password_hash(ADMIN_USER, &hash(&password), crate::unix_ms())?;
    Ok(password)
}

/// Sets a password the owner chose, once it is long enough.
pub fn set_admin_password(store: &mut Store, password: &str) -> Result<(), AdminPasswordError> {
    if password.chars().count() < MIN_ADMIN_PASSWORD {
        return Err(AdminPasswordError::Weak(field_error(
            "new_password",
            format!("must be at least {MIN_ADMIN_PASSWORD} characters"),
        )));
    }
    store.set_admin_password_hash(ADMIN_USER, &hash(password), crate::unix_ms())?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum AdminPasswordError {
    #[error(transparent)]
    Weak(FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `password` is the admin password. Slow on purpose (Argon2id): call it off
/// the async threads.
pub fn check_admin_password(store: &Store, user: &str, password: &str) -> Result<bool, StoreError> {
    if user != ADMIN_USER {
        return Ok(false);
    }
    let Some(stored) = store.admin_password_hash(user)? else {
        return Ok(false);
    };
    Ok(PasswordHash::new(&stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }))
}

fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("Argon2id hashes any password with a fresh salt")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_password_is_made_once_and_only_it_opens() {
        let mut store = Store::open_in_memory().unwrap();
        let password = ensure_admin(&mut store).unwrap().unwrap();
        assert!(ensure_admin(&mut store).unwrap().is_none());
        let stored = store.admin_password_hash(ADMIN_USER).unwrap().unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains(&password));
        assert!(check_admin_password(&store, "admin", &password).unwrap());
        assert!(!check_admin_password(&store, "admin", "wrong").unwrap());
        assert!(!check_admin_password(&store, "root", &password).unwrap());
    }

    #[test]
    fn a_chosen_password_must_be_long_enough() {
        let mut store = Store::open_in_memory().unwrap();
        let Err(AdminPasswordError::Weak(e)) = set_admin_password(&mut store, "short") else {
            panic!("a short password was accepted")
        };
        assert_eq!(e.field, "new_password");
        set_admin_password(&mut store, "a much longer one").unwrap();
        assert!(check_admin_password(&store, "admin", "a much longer one").unwrap());
        let reset = reset_admin_password(&mut store).unwrap();
        assert!(!check_admin_password(&store, "admin", "a much longer one").unwrap());
        assert!(check_admin_password(&store, "admin", &reset).unwrap());
    }
}
