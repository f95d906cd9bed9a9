//! The in-app phone (crates/phone) as the desktop app runs it, on its tokio edge, with
//! a file for a sound card: it says a WAV into its calls and keeps what it hears.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_phone::edge::{PhoneHandle, Sockets, SoundCard, spawn};
use switchboard_phone::{
    EndReason, LineId, LineInfo, LineState, PCM_RATE, Phone, PhoneConfig, PhoneEvent, SignIn,
};

use crate::baresip::Baresip;
use tokio::runtime::Runtime;
use tokio::sync::broadcast;

/// A microphone that plays a file, and a speaker that records.
#[derive(Debug)]
pub struct FileCard {
    source: Vec<i16>,
    at: usize,
    heard: Arc<Mutex<Vec<i16>>>,
}

impl FileCard {
    /// A card saying `voice` (any WAV) from the moment the phone starts.
    pub fn new(voice: &Path) -> FileCard {
        let bytes = std::fs::read(voice).expect("voice file");
        let source = switchboard_media::prompt::Prompt::decode(bytes, PCM_RATE)
            .expect("voice decodes")
            .samples
            .to_vec();
        FileCard {
            source,
            at: 0,
            heard: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// What its speaker played, as a WAV at `out`.
    pub fn recording(&self) -> impl Fn(&Path) + use<> {
        let heard = self.heard.clone();
        move |out| {
            let heard = heard.lock().expect("recording").clone();
            crate::audio::write_wav(out, &heard, PCM_RATE, 1);
        }
    }
}

impl SoundCard for FileCard {
    fn capture(&mut self, frame: &mut [i16]) {
        for sample in frame.iter_mut() {
            *sample = self.source.get(self.at).copied().unwrap_or(0);
            self.at += 1;
        }
    }

    fn play(&mut self, frame: &[i16]) {
        if let Ok(mut heard) = self.heard.lock() {
            heard.extend_from_slice(frame);
        }
    }
}

#[derive(Debug)]
pub struct AppPhone {
    runtime: Runtime,
    handle: PhoneHandle,
    events: broadcast::Receiver<PhoneEvent>,
}

impl AppPhone {
    /// The phone signed in as `extension` at `server`, its sound through `card`.
    pub fn start(server: SocketAddr, extension: &str, card: impl SoundCard) -> AppPhone {
        let runtime = Runtime::new().expect("tokio runtime");
        let config = PhoneConfig::new(
            server,
            extension,
            crate::password(extension),
            server,
            Vec::new(),
        );
        let handle = runtime.block_on(async {
            let sockets = Sockets::bind(server, 2).await.expect("phone sockets");
            spawn(config, sockets, card, rand_key()).expect("phone starts")
        });
        let events = handle.subscribe();
        AppPhone {
            runtime,
            handle,
            events,
        }
    }

    /// Runs a command on the phone.
    pub fn act<T: Send + 'static>(
        &self,
        command: impl FnOnce(&mut Phone, std::time::Instant) -> T + Send + 'static,
    ) -> T {
        self.runtime
            .block_on(self.handle.act(command))
            .expect("the phone runs")
    }

    /// Waits until the phone has signed in.
    pub fn signed_in(&mut self) {
        self.wait(Duration::from_secs(10), |e| {
            matches!(
                e,
                PhoneEvent::SignIn {
                    state: SignIn::SignedIn { .. }
                }
            )
        });
    }

    /// Waits for a call to ring the phone, and returns its line.
    pub fn ringing(&mut self) -> LineInfo {
        match self.wait(
            Duration::from_secs(15),
            |e| matches!(e, PhoneEvent::Line(l) if l.state == LineState::Ringing),
        ) {
            PhoneEvent::Line(line) => line,
            other => unreachable!("waited for a line, got {other:?}"),
        }
    }

    /// Waits until `line` reaches `state`.
    pub fn line_reaches(&mut self, line: LineId, state: LineState) {
        self.wait(
            Duration::from_secs(15),
            |e| matches!(e, PhoneEvent::Line(l) if l.line == line && l.state == state),
        );
    }

    /// Waits until a line's call ends, and says why.
    pub fn ended(&mut self) -> EndReason {
        match self.wait(Duration::from_secs(10), |e| {
            matches!(e, PhoneEvent::Ended { .. })
        }) {
            PhoneEvent::Ended { reason, .. } => reason,
            other => unreachable!("waited for an end, got {other:?}"),
        }
    }

    /// The first event that `wanted` accepts, within `limit`.
    pub fn wait(&mut self, limit: Duration, wanted: impl Fn(&PhoneEvent) -> bool) -> PhoneEvent {
        let events = &mut self.events;
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + limit;
            loop {
                match tokio::time::timeout_at(deadline, events.recv()).await {
                    Ok(Ok(event)) if wanted(&event) => return event,
                    Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                    Ok(Err(e)) => panic!("the phone stopped: {e}"),
                    Err(_) => panic!("the phone did not report the event within {limit:?}"),
                }
            }
        })
    }
}

/// The test office with queue 600 ("Sales", no announcements) whose one agent is
/// `agent`.
pub fn queue_office(agent: &str) -> String {
    format!(
        "{}\n[[queues]]\nnumber = \"600\"\nname = \"Sales\"\nstrategy = \"linear\"\n\
         [queues.announcements]\nposition_on_join = false\nposition_every = 0\ncomfort_every = 0\n\
         [[queues.agents]]\nextension = \"{agent}\"\n",
        crate::config("", crate::FAST_REGISTRAR)
    )
}

/// How long a queue call the app's phone answered lasts before the caller hangs up.
/// The agent first hears the queue's whisper ("queue call, six zero zero", about
/// 2.5 s) while the caller still hears music: the talk that follows must be most of
/// what the caller records, or the score's median falls on the music.
pub const QUEUE_CALL_TALK: Duration = Duration::from_secs(9);

/// `caller` calls queue 600 once `phone` has signed in; the phone's card shows the
/// caller, the phone answers, they talk and the caller hangs up, which ends the
/// phone's line. Returns the caller, for what it heard.
pub fn answer_queue_call(
    server: &crate::Server,
    phone: &mut AppPhone,
    mut caller: Baresip,
) -> Baresip {
    phone.signed_in();
    server.wait_metric("bindings", Duration::from_secs(10), |b| b == 2);
    caller.command("dial", &format!("sip:600@{}", server.sip));
    let card = phone.ringing();
    assert_eq!(card.party.number, "100");
    phone
        .act(move |p, now| p.answer(now, card.line))
        .expect("answers");
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(10));
    std::thread::sleep(QUEUE_CALL_TALK);
    caller.command("hangup", "");
    assert_eq!(phone.ended(), EndReason::HungUpThere);
    server.wait_metric("active_calls", Duration::from_secs(5), |c| c == 0);
    caller
}

/// A fresh key for the phone's identifiers, from the clock and the process: tests
/// need different phones to differ, not secrecy.
fn rand_key() -> [u8; 32] {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        ^ u128::from(std::process::id());
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&seed.to_le_bytes());
    key
}
