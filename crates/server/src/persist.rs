//! Write-behind of registrar bindings: the engine never waits on SQLite. A thread owns
//! its own connection and writes whatever has queued up in one transaction per batch.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchboard_sip::registrar::{Binding, BindingChange, Registrar};
use switchboard_sip::transaction::{Peer, Transport};
use switchboard_store::{Registration, RegistrationWrite, Store, StoreError};

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The store row for a registrar change, with expiry turned into wall-clock seconds.
pub fn to_write(change: BindingChange, unix_now: i64) -> RegistrationWrite {
    match change {
        BindingChange::Upsert {
            aor,
            binding,
            expires_in,
        } => RegistrationWrite::Upsert(Registration {
            aor,
            uri: binding.uri,
            call_id: binding.call_id,
            cseq: binding.cseq,
            expires_at: unix_now + expires_in.as_secs() as i64,
            transport: binding.source.transport.via_name().to_string(),
            source: binding.source.addr.to_string(),
            user_agent: binding.user_agent,
        }),
        BindingChange::Remove { aor, uri } => RegistrationWrite::Remove { aor, uri },
    }
}

/// Loads unexpired bindings back into the registrar; returns how many.
pub fn restore(
    store: &Store,
    registrar: &mut Registrar,
    now: Instant,
) -> Result<usize, StoreError> {
    let unix = unix_now();
    let rows = store.registrations(unix)?;
    let mut restored = 0;
    for row in rows {
        let transport = if row.transport == "TCP" {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let Ok(addr) = row.source.parse::<SocketAddr>() else {
            continue;
        };
        let remaining = Duration::from_secs(u64::try_from(row.expires_at - unix).unwrap_or(0));
        let binding = Binding {
            uri: row.uri,
            call_id: row.call_id,
            cseq: row.cseq,
            expires_at: now,
            source: Peer { transport, addr },
            user_agent: row.user_agent,
        };
        registrar.restore(now, &row.aor, binding, remaining);
        restored += 1;
    }
    // Restored bindings are already stored; nothing to write back.
    while registrar.poll_change().is_some() {}
    Ok(restored)
}

/// Starts the writer thread; it ends when every sender is dropped, after a last flush.
pub fn spawn_writer(
    path: &Path,
) -> Result<
    (
        mpsc::Sender<Vec<RegistrationWrite>>,
        std::thread::JoinHandle<()>,
    ),
    StoreError,
> {
    let mut store = Store::open(path)?;
    store.limit_page_cache(256)?;
    store.purge_expired_registrations(unix_now())?;
    let (tx, rx) = mpsc::channel::<Vec<RegistrationWrite>>();
    let handle = std::thread::Builder::new()
        .name("registrations-writer".into())
        .spawn(move || {
            while let Ok(mut batch) = rx.recv() {
                batch.extend(rx.try_iter().flatten());
                if let Err(e) = store.write_registrations(&batch) {
                    tracing::error!("could not save {} registration changes: {e}", batch.len());
                }
            }
        })
        .expect("spawning a thread");
    Ok((tx, handle))
}
