//! The engine never waits on SQLite: a thread owns its own connection and writes what
//! the engine hands it, everything that queued while it wrote the last batch in one
//! transaction (a registration storm is many sign-ins per commit). The engine holds a
//! phone's answer until the change it answers for is committed (`after_commit`), so a
//! sign-in or a call the phone was told of survives the process being killed.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchboard_core::{CallAnswered, CallKey, CallOpened, CallRecord, QueueEventRecord, unix_ms};
use switchboard_queue::{EventKind, LeaveReason};
use switchboard_sip::guard::{Ban, BanChange, BanReason};
use switchboard_sip::registrar::{Binding, BindingChange, Registrar};
use switchboard_sip::service::Service;
use switchboard_sip::transaction::{Peer, Transport};
use switchboard_store::{
    BanRow, BanWrite, Notices, QueueEventRow, Registration, RegistrationWrite, Store, StoreError,
    VoicemailChange, VoicemailMessage, WebhookDelivery,
};

use tokio::sync::Notify;

use crate::config::{Config, WebhookSettings};
use crate::voicemail::VoicemailFiles;
use crate::webhook_events::Herald;

/// What the engine hands the writer.
#[derive(Debug)]
pub enum Write {
    Registrations(Vec<RegistrationWrite>),
    CallOpened(CallOpened),
    CallAnswered(CallAnswered),
    /// A call's record, and the engine's number for the call it closes.
    CallRecord(Box<CallRecord>, Option<CallKey>),
    QueueEvent(QueueEventRecord),
    Voicemail(switchboard_core::VoicemailChange),
    Callback(switchboard_core::CallbackChange),
    Bans(Vec<BanWrite>),
    /// Answered once everything sent before it is committed.
    Committed(tokio::sync::oneshot::Sender<()>),
}

/// The store's form of a voicemail change.
fn voicemail_change(change: switchboard_core::VoicemailChange) -> VoicemailChange {
    use switchboard_core::VoicemailChange as Change;
    match change {
        Change::Left(m) => VoicemailChange::Left(VoicemailMessage {
            id: m.id,
            mailbox: m.mailbox,
            caller: m.caller,
            received_at: unix_ms::from(m.received),
            duration_ms: m.duration.as_millis() as i64,
            heard: m.heard,
        }),
        Change::Heard { id, heard } => VoicemailChange::Heard { id, heard },
        Change::Deleted { id, .. } => VoicemailChange::Deleted { id },
    }
}

/// The store's messages as the engine keeps them.
pub fn voicemail_messages(
    store: &Store,
) -> Result<Vec<switchboard_core::VoicemailMessage>, StoreError> {
    Ok(store
        .voicemail_messages()?
        .into_iter()
        .map(|m| switchboard_core::VoicemailMessage {
            id: m.id,
            mailbox: m.mailbox,
            caller: m.caller,
            received: unix_ms::to(m.received_at),
            duration: Duration::from_millis(u64::try_from(m.duration_ms).unwrap_or(0)),
            heard: m.heard,
        })
        .collect())
}

/// The queue log row for an event: its kind by name, times in milliseconds, the rest
/// as words in `detail`.
pub fn queue_event_row(e: QueueEventRecord) -> QueueEventRow {
    let ms = |d: std::time::Duration| Some(d.as_millis() as i64);
    let (event, waited_ms, talk_ms, detail) = match e.kind {
        EventKind::Join { position, priority } => (
            "join",
            None,
            None,
            format!("position {position}, priority {priority}"),
        ),
        EventKind::RingNoAnswer => ("ring-no-answer", None, None, String::new()),
        EventKind::Declined => ("declined", None, None, String::new()),
        EventKind::Connect { waited, .. } => ("connect", ms(waited), None, String::new()),
        EventKind::Complete { talk, by } => {
            ("complete", None, ms(talk), format!("{by:?}").to_lowercase())
        }
        EventKind::Abandon { waited, position } => {
            ("abandon", ms(waited), None, format!("position {position}"))
        }
        EventKind::Exit { reason, waited } => ("exit", ms(waited), None, leave_reason(reason)),
        EventKind::CallbackRequested => ("callback-requested", None, None, String::new()),
        EventKind::CallbackPlaced { attempt } => {
            ("callback-placed", None, None, format!("attempt {attempt}"))
        }
        EventKind::CallbackCompleted => ("callback-completed", None, None, String::new()),
        EventKind::CallbackFailed { attempts } => (
            "callback-failed",
            None,
            None,
            format!("{attempts} attempts"),
        ),
        EventKind::PreemptWarned { .. } => ("preempt-warned", None, None, String::new()),
        EventKind::Preempt { .. } => ("preempt", None, None, String::new()),
        EventKind::Resume { .. } => ("resume", None, None, String::new()),
        EventKind::OfferedBack => ("offered-back", None, None, String::new()),
        EventKind::Login => ("login", None, None, String::new()),
        EventKind::Logout => ("logout", None, None, String::new()),
        EventKind::Pause { reason } => ("pause", None, None, reason),
        EventKind::Unpause => ("unpause", None, None, String::new()),
    };
    QueueEventRow {
        at: unix_ms::from(e.at),
        queue: e.queue,
        call_id: e.call_id,
        agent: e.agent,
        event: event.into(),
        waited_ms,
        talk_ms,
        vip: e.vip,
        detail,
    }
}

fn leave_reason(reason: LeaveReason) -> String {
    match reason {
        LeaveReason::Full => "full".into(),
        LeaveReason::Empty => "empty".into(),
        LeaveReason::Timeout => "timeout".into(),
        LeaveReason::Key(k) => format!("key {k}"),
    }
}

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

/// The store row for a ban started or lifted; `now` and `unix_ms` are the same moment.
pub fn ban_write(change: BanChange, now: Instant, unix_ms: i64) -> BanWrite {
    match change {
        BanChange::Banned(ban) => BanWrite::Banned(BanRow {
            ip: ban.ip.to_string(),
            until_ms: unix_ms + ban.until.saturating_duration_since(now).as_millis() as i64,
            reason: ban.reason.name().into(),
        }),
        BanChange::Lifted(ip) => BanWrite::Lifted { ip: ip.to_string() },
    }
}

/// Takes up the bans kept from before a restart; returns how many.
pub fn restore_bans(
    store: &Store,
    service: &mut Service,
    now: Instant,
) -> Result<usize, StoreError> {
    let unix_ms = unix_now() * 1000;
    let mut restored = 0;
    for row in store.bans(unix_ms)? {
        let (Ok(ip), Some(reason)) = (row.ip.parse(), BanReason::from_name(&row.reason)) else {
            continue;
        };
        let left = Duration::from_millis(u64::try_from(row.until_ms - unix_ms).unwrap_or(0));
        service.restore_ban(Ban {
            ip,
            until: now + left,
            reason,
        });
        restored += 1;
    }
    Ok(restored)
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
        let transport = Transport::from_via_name(&row.transport).unwrap_or(Transport::Udp);
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

/// Who is told when the writer queues something to send.
#[derive(Debug, Clone)]
pub struct Wakes {
    pub mail: Arc<Notify>,
    pub webhooks: Arc<Notify>,
}

/// One batch of writes, sorted by what stores them, each with the webhook deliveries
/// telling of it.
#[derive(Default)]
struct Batch {
    registrations: Vec<RegistrationWrite>,
    opened: Vec<CallOpened>,
    records: Vec<(CallRecord, Option<CallKey>)>,
    calls_told: Vec<WebhookDelivery>,
    queue_events: Vec<QueueEventRow>,
    queue_told: Vec<WebhookDelivery>,
    voicemail: Vec<(switchboard_core::VoicemailChange, Vec<WebhookDelivery>)>,
    callbacks: Vec<switchboard_core::CallbackChange>,
    callbacks_told: Vec<WebhookDelivery>,
    bans: Vec<BanWrite>,
    waiting: Vec<tokio::sync::oneshot::Sender<()>>,
}

/// Starts the writer thread; it ends when every sender is dropped, after a last flush.
/// `wakes` are told whenever an e-mail or a webhook delivery is queued.
pub fn spawn_writer(
    path: &Path,
    (voicemail, recordings): (VoicemailFiles, crate::recordings::RecordingFolder),
    wakes: Wakes,
) -> Result<(mpsc::Sender<Write>, std::thread::JoinHandle<()>), StoreError> {
    let mut store = Store::open(path)?;
    store.limit_page_cache(256)?;
    store.purge_expired_registrations(unix_now())?;
    let interrupted = store.close_interrupted_calls(|name| recordings.exists(name))?;
    if interrupted > 0 {
        tracing::warn!(
            "{interrupted} calls were cut when Switchboard last stopped; they are in the call log as interrupted"
        );
    }
    let mut herald = Herald::new(&store)?;
    let (tx, rx) = mpsc::channel::<Write>();
    let handle = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let writes = std::iter::once(first).chain(rx.try_iter());
                let batch = sort(&store, &mut herald, &recordings, writes);
                save(&mut store, &voicemail, batch, &wakes);
            }
        })
        .expect("spawning a thread");
    Ok((tx, handle))
}

/// Sorts a batch's writes, making the webhook deliveries of each in the order they
/// came.
fn sort(
    store: &Store,
    herald: &mut Herald,
    recordings: &crate::recordings::RecordingFolder,
    writes: impl Iterator<Item = Write>,
) -> Batch {
    let mut b = Batch::default();
    let mut loaded = None;
    for write in writes {
        match write {
            Write::Registrations(batch) => b.registrations.extend(batch),
            Write::CallOpened(row) => {
                if let Some(hooks) = listening(store, &mut loaded) {
                    let earlier = b.opened.iter().filter(|o| o.caller == row.caller).count();
                    b.calls_told
                        .extend(herald.opened(store, hooks, &row, earlier as u32));
                }
                b.opened.push(row);
            }
            Write::CallAnswered(call) => {
                if let Some(hooks) = listening(store, &mut loaded) {
                    let subject = opened_as(store, &b.opened, Some(call.call), &call.call_id);
                    b.calls_told.extend(herald.answered(hooks, &call, &subject));
                }
            }
            Write::CallRecord(mut row, key) => {
                // A recording the disk guard refused was never written.
                if row
                    .recording
                    .as_deref()
                    .is_some_and(|n| !recordings.exists(n))
                {
                    row.recording = None;
                }
                if let Some(hooks) = listening(store, &mut loaded) {
                    let subject = opened_as(store, &b.opened, key, &row.call_id);
                    b.calls_told.extend(herald.ended(hooks, &row, &subject));
                }
                b.records.push((*row, key))
            }
            Write::QueueEvent(event) => {
                if let Some(hooks) = listening(store, &mut loaded) {
                    let told = herald.queue_event(store, hooks, &event, &b.opened);
                    b.queue_told.extend(told);
                }
                b.queue_events.push(queue_event_row(event));
            }
            Write::Voicemail(change) => {
                let told = match listening(store, &mut loaded) {
                    Some(hooks) => herald.voicemail(hooks, &change),
                    None => Vec::new(),
                };
                b.voicemail.push((change, told));
            }
            Write::Callback(change) => {
                if let Some(hooks) = listening(store, &mut loaded) {
                    b.callbacks_told.extend(herald.callback(hooks, &change));
                }
                b.callbacks.push(change);
            }
            Write::Bans(batch) => b.bans.extend(batch),
            Write::Committed(done) => b.waiting.push(done),
        }
    }
    b
}

/// The webhook settings when any receiver listens; read once per batch, at its first
/// write with something to tell.
fn listening<'a>(
    store: &Store,
    loaded: &'a mut Option<Option<WebhookSettings>>,
) -> Option<&'a WebhookSettings> {
    loaded
        .get_or_insert_with(|| {
            let settings = Config::webhooks(store).unwrap_or_else(|e| {
                tracing::error!("no webhooks for these calls: {e}");
                WebhookSettings::default()
            });
            (!settings.endpoints.is_empty()).then_some(settings)
        })
        .as_ref()
}

/// The Call-ID call `key` was opened with (in this batch, or before it), which keeps a
/// call's webhooks in order when its name changed on the way; else `named`.
fn opened_as(store: &Store, batch: &[CallOpened], key: Option<CallKey>, named: &str) -> String {
    let Some(key) = key else {
        return named.to_string();
    };
    batch
        .iter()
        .find(|o| o.call == key)
        .map(|o| o.call_id.clone())
        .or_else(|| store.open_call_id(key).ok().flatten())
        .unwrap_or_else(|| named.to_string())
}

/// Commits a batch, each kind of write in its own transaction with what tells of it.
fn save(store: &mut Store, voicemail: &VoicemailFiles, b: Batch, wakes: &Wakes) {
    let mut told = false;
    for (change, webhooks) in b.voicemail {
        let (mailed, hooked) = save_voicemail(store, voicemail, change, webhooks);
        if mailed {
            wakes.mail.notify_one();
        }
        told |= hooked;
    }
    if !b.queue_events.is_empty() {
        let notices = Notices {
            mail: Vec::new(),
            webhooks: b.queue_told,
        };
        match store.insert_queue_events(&b.queue_events, &notices) {
            Ok(()) => told |= !notices.webhooks.is_empty(),
            Err(e) => {
                tracing::error!("could not save {} queue events: {e}", b.queue_events.len())
            }
        }
    }
    if !b.callbacks.is_empty() {
        let notices = Notices {
            mail: Vec::new(),
            webhooks: b.callbacks_told,
        };
        match store.write_callbacks(&b.callbacks, &notices) {
            Ok(()) => told |= !notices.webhooks.is_empty(),
            Err(e) => tracing::error!("could not save {} callback changes: {e}", b.callbacks.len()),
        }
    }
    if !(b.records.is_empty() && b.opened.is_empty() && b.calls_told.is_empty()) {
        let notices = Notices {
            mail: missed_call_mail(store, &b.records),
            webhooks: b.calls_told,
        };
        match store.write_calls(&b.opened, &b.records, &notices) {
            Ok(()) => {
                if !notices.mail.is_empty() {
                    wakes.mail.notify_one();
                }
                told |= !notices.webhooks.is_empty();
            }
            Err(e) => tracing::error!("could not save {} call records: {e}", b.records.len()),
        }
    }
    if told {
        wakes.webhooks.notify_one();
    }
    if !b.registrations.is_empty()
        && let Err(e) = store.write_registrations(&b.registrations)
    {
        tracing::error!(
            "could not save {} registration changes: {e}",
            b.registrations.len()
        );
    }
    if !b.bans.is_empty()
        && let Err(e) = store.write_bans(&b.bans, unix_now() * 1000)
    {
        tracing::error!("could not save {} ban changes: {e}", b.bans.len());
    }
    for done in b.waiting {
        let _ = done.send(());
    }
}

/// The e-mail telling of the calls among `records` that nobody answered, for the boxes
/// that ask for them. The configuration is read only when there is such a call.
fn missed_call_mail(
    store: &Store,
    records: &[(switchboard_core::CallRecord, Option<CallKey>)],
) -> Vec<switchboard_store::Mail> {
    if !records.iter().any(|(r, _)| crate::mailer::is_missed(r)) {
        return Vec::new();
    }
    let config = match Config::load(store) {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("no e-mail for missed calls: {e}");
            return Vec::new();
        }
    };
    records
        .iter()
        .filter_map(|(r, _)| crate::mailer::missed_call_mail(&config, r))
        .collect()
}

/// Commits a voicemail change; a deleted message's audio goes once its row is gone. A
/// message left for a box with an address queues its e-mail, and `webhooks` are queued,
/// in the same transaction; answers whether each was.
fn save_voicemail(
    store: &mut Store,
    files: &VoicemailFiles,
    change: switchboard_core::VoicemailChange,
    webhooks: Vec<WebhookDelivery>,
) -> (bool, bool) {
    use switchboard_core::VoicemailChange as Change;
    let gone = match &change {
        Change::Deleted { mailbox, id } => files.message(mailbox, *id).ok(),
        _ => None,
    };
    let mail = match &change {
        Change::Left(m) => Config::load(store)
            .inspect_err(|e| tracing::error!("no e-mail for message {}: {e}", m.id))
            .ok()
            .and_then(|c| {
                crate::mailer::voicemail_mail(&c, &m.mailbox, m.id, &m.caller, m.duration)
            }),
        _ => None,
    };
    let notices = Notices {
        mail: mail.into_iter().collect(),
        webhooks,
    };
    if let Err(e) = store.change_voicemail(&voicemail_change(change), &notices) {
        tracing::error!("could not save a voicemail change: {e}");
        return (false, false);
    }
    if let Some(path) = gone
        && let Err(e) = crate::files::remove(&path)
    {
        tracing::error!("could not delete {}: {e}", path.display());
    }
    (!notices.mail.is_empty(), !notices.webhooks.is_empty())
}
