//! What the office configured: queues, agents, and which agents serve which queue at
//! which tier. The vocabulary is app_queue's and mod_callcenter's (weight, tier, wrap-up,
//! ring timeout, retry, join-empty, leave-when-empty).

use std::time::Duration;

use crate::strategy::Strategy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub u32);

/// A caller's call as the call logic knows it; a callback request keeps the id of the
/// call that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// One offer of a caller to an agent's phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OfferId(pub u64);

#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    pub name: String,
    pub strategy: Strategy,
    /// An agent in several queues serves the higher-weight queue first.
    pub weight: u32,
    /// How long an agent's phone rings before the offer is given up.
    pub ring_timeout: Duration,
    /// The pause after every agent tried for a caller failed to answer, before the
    /// next round.
    pub retry_delay: Duration,
    /// After a call, the agent is not offered another for this long.
    pub wrap_up: Duration,
    /// An agent who declined a call is not offered another for this long.
    pub reject_delay: Duration,
    /// This many offers in a row unanswered pauses the agent (None: never).
    pub max_missed: Option<u32>,
    /// Offer calls to agents whose phone is already on a call outside the queue.
    pub ring_busy_agents: bool,
    /// Tier N's agents are offered a caller only once it has waited N times this long
    /// (and no agent of a better tier is free); None: as soon as better tiers are busy.
    pub tier_wait: Option<Duration>,
    pub max_callers: Option<usize>,
    /// A caller waiting longer leaves for the queue's overflow destination.
    pub max_wait: Option<Duration>,
    /// When a caller may not join, and when waiting callers must leave, for want of agents.
    pub join_empty: EmptyPolicy,
    pub leave_when_empty: EmptyPolicy,
    pub announcements: Announcements,
    /// Key 1 asks to be called back, keeping the caller's place; None: key 1 is ignored.
    pub callback: Option<CallbackPolicy>,
    /// Callers who give up waiting are called back (the lost-call dialer); None: not.
    pub lost_calls: Option<LostCallPolicy>,
    /// A priority (VIP) queue: its callers may take a busy agent.
    pub vip: Option<VipPolicy>,
    /// Calls answered within this wait count towards the service level.
    pub service_level: Duration,
}

impl QueueConfig {
    /// A queue with the defaults an office starts from: ring everyone, 20 s rings,
    /// 5 s between rounds, 10 s wrap-up, callers always wait.
    pub fn new(name: &str, strategy: Strategy) -> Self {
        QueueConfig {
            name: name.to_string(),
            strategy,
            weight: 0,
            ring_timeout: Duration::from_secs(20),
            retry_delay: Duration::from_secs(5),
            wrap_up: Duration::from_secs(10),
            reject_delay: Duration::from_secs(10),
            max_missed: Some(3),
            ring_busy_agents: false,
            tier_wait: None,
            max_callers: None,
            max_wait: None,
            join_empty: EmptyPolicy::Never,
            leave_when_empty: EmptyPolicy::Never,
            announcements: Announcements::default(),
            callback: None,
            lost_calls: None,
            vip: None,
            service_level: Duration::from_secs(20),
        }
    }
}

/// When a queue counts as having nobody to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmptyPolicy {
    /// Callers wait whatever the agents do.
    #[default]
    Never,
    /// No member agent is logged in.
    NoAgentLoggedIn,
    /// No member agent is available (all logged out or on a break).
    NoAgentAvailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcements {
    pub position_on_join: bool,
    /// Tell callers near the front (the first [`Self::change_positions`]) when they
    /// move up.
    pub position_on_change: bool,
    pub change_positions: usize,
    /// Position (and estimated wait) again this often.
    pub position_every: Option<Duration>,
    /// Say the estimated wait with the position.
    pub estimated_wait: bool,
    /// No two position announcements to one caller closer than this.
    pub min_gap: Duration,
    /// "Your call is important to us" this often.
    pub comfort_every: Option<Duration>,
}

impl Default for Announcements {
    fn default() -> Self {
        Announcements {
            position_on_join: true,
            position_on_change: false,
            change_positions: 3,
            position_every: Some(Duration::from_secs(60)),
            estimated_wait: true,
            min_gap: Duration::from_secs(15),
            comfort_every: Some(Duration::from_secs(45)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// Calls to the customer before the request is given up.
    pub attempts: u32,
    /// Between attempts the request keeps its place but is not served.
    pub retry_after: Duration,
}

/// The lost-call dialer: a caller who hung up waiting becomes a callback task, served
/// like a caller's own callback request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostCallPolicy {
    /// Callers who gave up sooner are not called back: a wrong number, a change of mind.
    pub min_wait: Duration,
    /// A task not served by then is dropped: the customer has likely called again, or
    /// gone elsewhere.
    pub expire_after: Duration,
    /// Its attempts, and the pause between them.
    pub retry: CallbackPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VipPolicy {
    /// Between the agent hearing that a VIP is coming and the VIP taking over the
    /// agent (the agent may finish the current call meanwhile); up to 30 minutes.
    pub delay: Duration,
}

/// The longest a VIP may let an agent finish first.
pub const MAX_VIP_DELAY: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// The extension whose phones ring for this agent.
    pub extension: String,
    /// Overrides the queue's ring timeout.
    pub ring_timeout: Option<Duration>,
    /// Overrides the queue's wrap-up.
    pub wrap_up: Option<Duration>,
    /// Available when the extension registers, logged out when it no longer is.
    pub follows_registration: bool,
}

impl AgentConfig {
    pub fn new(extension: &str) -> Self {
        AgentConfig {
            extension: extension.to_string(),
            ring_timeout: None,
            wrap_up: None,
            follows_registration: false,
        }
    }
}

/// A caller's priority in queues: higher is served first, 0 for every caller that no VIP
/// list or scenario raised. Apart from an agent's tier, where 0 rings first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub i32);

impl std::fmt::Display for Priority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An agent's place in one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    /// 0 is the first tier; higher tiers are tried when lower ones are busy.
    pub tier: u8,
    /// The share of calls under [`Strategy::WeightedRandom`].
    pub weight: u32,
}

impl Default for Membership {
    fn default() -> Self {
        Membership { tier: 0, weight: 1 }
    }
}
