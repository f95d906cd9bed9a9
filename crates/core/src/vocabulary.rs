//! The words the engine speaks to its edges: what it asks the network and the media
//! edge to do, what it tells the store, and the clock each input comes with. Every
//! layer of core (legs, features, engine) uses these and nothing else to talk outward.

use std::time::{Instant, SystemTime};

use switchboard_media::dtmf::Dtmf;
use switchboard_media::relay::{LegMedia, Side};
use switchboard_sip::registrar::BindingChange;
use switchboard_sip::transaction::Transmit;

use crate::record::{CallAnswered, CallOpened, CallRecord, QueueEventRecord, VoicemailChange};

/// A call's handle, shared with the media edge.
pub type CallKey = u64;

/// What a leg waiting alone hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// Music on hold: waiting in a queue, held.
    Music,
    /// The ringing tone: a phone is ringing for them.
    Ringback,
}

/// What a caller hears when a call cannot go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    Busy,
    Unavailable,
    NoSuchNumber,
    /// Answers to an agent's feature code (see [`crate::FeatureCode`]).
    AgentLoggedIn,
    AgentLoggedOut,
    AgentOnBreak,
    AgentBack,
    /// "Calls from your number are not accepted", before a block list's 603.
    Blocked,
    /// "You are not allowed to call this number from this phone", before a refused
    /// call out's 403.
    NotAllowed,
    /// "We will call you back…", to a queue caller who pressed 1.
    CallbackAccepted,
    /// "Queue call." to a callback's agent before the customer is rung.
    CallbackWhisper,
}

/// Pieces of what Switchboard says to a leg, each one built-in prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word {
    /// "You are caller number"
    QueuePosition,
    /// "Your estimated waiting time, in minutes, is"
    QueueWait,
    /// "You will be connected in less than a minute."
    QueueWaitShort,
    /// "more than", before the largest number said.
    MoreThan,
    /// A number from 0 to [`Word::MAX_NUMBER`].
    Number(u32),
    /// "Thank you for waiting…"
    QueueComfort,
    /// "Queue call." to an agent before the caller is put through.
    QueueWhisper,
    /// "Waited, in minutes:", in that whisper.
    QueueWaited,
    /// "To be called back without losing your place, press 1."
    QueueCallbackOffer,
    /// "Please hold…", to a caller whose agent a VIP takes over.
    QueueHold,
    /// "A priority caller is waiting…", to the agent a VIP will take over.
    QueueVipWarning,
    /// "Transfer: dial the number, then the pound key", after the transfer code.
    TransferTo,
    /// "That number cannot take the call", when a transfer by keys is refused.
    TransferRefused,
    /// A beep: the call is being recorded from now on.
    RecordingOn,
    /// Two beeps: the call's recording is paused.
    RecordingPaused,
    /// "This call cannot be recorded", to the phone that typed the record code.
    RecordingRefused,
    /// "This call is recorded", to the customer, when the office gives that notice.
    CallRecorded,
}

impl Word {
    pub const MAX_NUMBER: u32 = 60;
}

/// How a call takes part in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomPart {
    /// Heard by everyone in the room.
    Talks,
    /// Heard by nobody: a supervisor listening.
    Listens,
    /// Heard by one leg of a watched call alone: a supervisor whispering to an agent.
    WhispersTo { call: CallKey, side: Side },
    /// Put aside, hearing music or ringback, heard by nobody: a caller waiting while
    /// their agent consults a colleague.
    Waits(Waiting),
}

/// What the media edge must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCommand {
    /// Bind the RTP (and RTCP) sockets facing A (`ports[0]`) and B (`ports[1]`).
    Open {
        call: CallKey,
        ports: [u16; 2],
    },
    /// Relay between the legs as negotiated (replaces an earlier bridge).
    Bridge {
        call: CallKey,
        a: LegMedia,
        b: LegMedia,
    },
    /// A re-INVITE changed one leg.
    Update {
        call: CallKey,
        side: Side,
        media: LegMedia,
    },
    /// Play an announcement once to leg `side`, whose media is `to` (the caller, or a
    /// callback's agent), then report [`crate::Pbx::handle_announcement_done`].
    Announce {
        call: CallKey,
        side: Side,
        to: LegMedia,
        what: Announcement,
    },
    /// Play music on hold to leg `to` (its other side put the call on hold), or stop.
    Music {
        call: CallKey,
        to: Side,
        on: bool,
    },
    /// Leg `side` (media `media`) waits alone: a caller in a queue hears music, one
    /// whose scenario rings phones and a callback's agent while the customer's phone
    /// rings hear ringback.
    Wait {
        call: CallKey,
        side: Side,
        media: LegMedia,
        hears: Waiting,
    },
    /// Say `words` once to leg `to`, then go back to what it heard (music while
    /// waiting, the other leg once bridged); the other leg hears music meanwhile.
    Say {
        call: CallKey,
        to: Side,
        words: Vec<Word>,
    },
    /// Say `words` once to leg `to` only, over the call: the other leg keeps hearing
    /// it (a warning to an agent while their caller talks on).
    Whisper {
        call: CallKey,
        to: Side,
        words: Vec<Word>,
    },
    /// Play `sounds` one after another to the caller, whose media is `to`, then
    /// report [`crate::Pbx::handle_announcement_done`]; none stops what was playing.
    Prompt {
        call: CallKey,
        to: LegMedia,
        sounds: Vec<Sound>,
    },
    /// Record what the caller (media `to`) says, within `limits`, into a message
    /// (then report [`crate::Pbx::handle_recorded`]) or a box's greeting (then
    /// [`crate::Pbx::handle_greeting_recorded`]); closing the call ends it too.
    Record {
        call: CallKey,
        to: LegMedia,
        into: RecordInto,
        limits: RecordLimits,
    },
    /// End the message being recorded now (the caller pressed `#`).
    StopRecording {
        call: CallKey,
    },
    /// Record what both legs of `call` say into `file` (a name in the recordings'
    /// folder: leg A left, leg B right), from now on, or pause (`on` false). The file is
    /// complete when the call closes.
    RecordCall {
        call: CallKey,
        file: String,
        on: bool,
    },
    /// Send a key press to one leg as RFC 4733 telephone events.
    SendDtmf {
        call: CallKey,
        to: Side,
        dtmf: Dtmf,
    },
    /// Leg A of `call` (media `media`) joins room `room`, taking `part`; it hears
    /// everyone whose voice reaches it. `announced`: the room hears a chime.
    Conference {
        call: CallKey,
        room: String,
        media: LegMedia,
        part: RoomPart,
        announced: bool,
    },
    /// The legs of answered call `call` (media `a` and `b`) talk through room `room`
    /// rather than straight to each other, so that a supervisor can join them.
    Monitor {
        call: CallKey,
        room: String,
        a: LegMedia,
        b: LegMedia,
    },
    /// `call`'s legs talk straight to each other again, and leave room `room`.
    Unmonitor {
        call: CallKey,
        room: String,
    },
    /// In room `room`, `call` (its leg `side` when its legs talk through the room)
    /// takes `part` from now on.
    SetPart {
        room: String,
        call: CallKey,
        side: Option<Side>,
        part: RoomPart,
    },
    /// `call` leaves room `room`.
    LeaveConference {
        call: CallKey,
        room: String,
    },
    Close {
        call: CallKey,
    },
}

#[derive(Debug)]
pub enum Output {
    Transmit(Transmit),
    Media(MediaCommand),
    CallOpened(CallOpened),
    CallAnswered(CallAnswered),
    /// A call attempt's record, and the call it closes ([`CallOpened`]); none for a
    /// call refused at once.
    CallRecord {
        record: Box<CallRecord>,
        opened: Option<CallKey>,
    },
    Binding(BindingChange),
    QueueEvent(QueueEventRecord),
    Voicemail(VoicemailChange),
    /// A callback request to keep on disk, or to drop from it.
    Callback(crate::features::queue::CallbackChange),
}

/// When an input happened: monotonic time for timers, wall-clock time for schedules,
/// call records and the phones' `Date`. A PC that sleeps stops the first and not the
/// second, and NTP or a DST change moves the second and not the first, so the engine
/// takes both with every input and never derives one from the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub mono: Instant,
    pub wall: SystemTime,
}

/// A box's new and heard counts, as message waiting indications tell them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub new: usize,
    pub heard: usize,
}

/// How long messages may be.
pub use switchboard_media::message_recorder::Limits as RecordLimits;

/// What a recording becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordInto {
    Message {
        mailbox: String,
        id: i64,
    },
    /// The box's own greeting, replacing the one it had.
    Greeting {
        mailbox: String,
    },
}

/// A sound played to a caller, one of a list played one after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sound {
    /// A built-in prompt or the office's own, by name.
    Named(String),
    /// The box's own greeting, or the built-in one when it has none.
    Greeting { mailbox: String },
    /// The tone after which the caller speaks.
    Beep,
    /// A message left in a box.
    Message { mailbox: String, id: i64 },
    /// A built-in word or number.
    Word(Word),
}
