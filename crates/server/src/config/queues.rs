//! Queues and their agents as the configuration file writes them: plain seconds and
//! names, checked field by field, then turned into the queue engine's settings.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use switchboard_queue::{
    AgentConfig, Announcements, CallbackPolicy, EmptyPolicy, LostCallPolicy, MAX_VIP_DELAY,
    Membership, QueueConfig, Strategy, VipPolicy,
};

use switchboard_core::QueueSetup;

use super::{FieldError, field_error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// The number callers dial to reach the queue.
    pub number: String,
    pub name: String,
    pub strategy: StrategyName,
    /// Seconds between agents added by "ring-progressive".
    pub ring_progressive_every: u32,
    /// An agent in several queues serves the higher weight first.
    pub weight: u32,
    pub ring_timeout: u32,
    pub retry_delay: u32,
    pub wrap_up: u32,
    pub reject_delay: u32,
    /// Unanswered offers in a row that pause an agent; 0: never.
    pub max_missed: u32,
    pub ring_busy_agents: bool,
    /// Seconds a caller waits before each further tier opens; 0: as soon as the
    /// tiers before are busy.
    pub tier_wait: u32,
    /// 0: no limit.
    pub max_callers: u32,
    /// Seconds; 0: no limit.
    pub max_wait: u32,
    pub join_empty: EmptyPolicyName,
    pub leave_when_empty: EmptyPolicyName,
    /// Seconds within which an answer counts towards the service level.
    pub service_level: u32,
    pub announcements: AnnouncementSettings,
    /// Key 1 asks for a callback (absent: off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSettings>,
    /// Callers who give up waiting are called back (absent: off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_calls: Option<LostCallSettings>,
    /// A priority queue whose callers may take over a busy agent (absent: not VIP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<VipSettings>,
    pub agents: Vec<MemberSettings>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        let d = QueueConfig::new("", Strategy::RingAll);
        QueueSettings {
            number: String::new(),
            name: String::new(),
            strategy: StrategyName::RingAll,
            ring_progressive_every: 5,
            weight: d.weight,
            ring_timeout: secs(d.ring_timeout),
            retry_delay: secs(d.retry_delay),
            wrap_up: secs(d.wrap_up),
            reject_delay: secs(d.reject_delay),
            max_missed: d.max_missed.unwrap_or(0),
            ring_busy_agents: d.ring_busy_agents,
            tier_wait: 0,
            max_callers: 0,
            max_wait: 0,
            join_empty: d.join_empty.into(),
            leave_when_empty: d.leave_when_empty.into(),
            service_level: secs(d.service_level),
            announcements: AnnouncementSettings::default(),
            callback: None,
            lost_calls: None,
            vip: None,
            agents: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnnouncementSettings {
    pub position_on_join: bool,
    pub position_on_change: bool,
    /// Seconds between position announcements; 0: never.
    pub position_every: u32,
    pub estimated_wait: bool,
    /// Seconds between "please stay on the line"; 0: never.
    pub comfort_every: u32,
}

impl Default for AnnouncementSettings {
    fn default() -> Self {
        let d = Announcements::default();
        AnnouncementSettings {
            position_on_join: d.position_on_join,
            position_on_change: d.position_on_change,
            position_every: d.position_every.map_or(0, secs),
            estimated_wait: d.estimated_wait,
            comfort_every: d.comfort_every.map_or(0, secs),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackSettings {
    pub attempts: u32,
    /// Seconds between attempts.
    pub retry_after: u32,
}

/// The lost-call dialer: a caller who hangs up after waiting `min_wait` seconds is
/// called back (an agent's phone first, then theirs), one task per number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LostCallSettings {
    /// Seconds: callers who gave up sooner are not called back.
    pub min_wait: u32,
    /// Minutes after which a task not yet served is dropped.
    pub expire_after: u32,
    pub attempts: u32,
    /// Seconds between attempts.
    pub retry_after: u32,
}

impl Default for LostCallSettings {
    fn default() -> Self {
        LostCallSettings {
            min_wait: 5,
            expire_after: 240,
            attempts: 2,
            retry_after: 300,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VipSettings {
    /// Seconds the agent may finish their call after the warning (up to 1800).
    pub delay: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberSettings {
    pub extension: String,
    #[serde(default)]
    pub tier: u8,
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// Per-agent settings, for agents who need other than their queues' defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    pub extension: String,
    /// Seconds; overrides the queues' ring timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_timeout: Option<u32>,
    /// Seconds; overrides the queues' wrap-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up: Option<u32>,
    /// Available while the extension's phone is registered.
    #[serde(default = "yes")]
    pub follows_registration: bool,
}

fn yes() -> bool {
    true
}

fn secs(d: Duration) -> u32 {
    d.as_secs() as u32
}

fn seconds(s: u32) -> Duration {
    Duration::from_secs(u64::from(s))
}

fn optional(s: u32) -> Option<Duration> {
    (s > 0).then(|| seconds(s))
}

/// How a queue picks the agents who ring, by the name an admin picks it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyName {
    RingAll,
    Linear,
    RoundRobin,
    LongestIdle,
    FewestCalls,
    LeastTalkTime,
    Random,
    WeightedRandom,
    /// Adds the next agent every `ring_progressive_every` seconds.
    RingProgressive,
}

impl StrategyName {
    fn strategy(self, every: Duration) -> Strategy {
        match self {
            StrategyName::RingAll => Strategy::RingAll,
            StrategyName::Linear => Strategy::Linear,
            StrategyName::RoundRobin => Strategy::RoundRobin,
            StrategyName::LongestIdle => Strategy::LongestIdle,
            StrategyName::FewestCalls => Strategy::FewestCalls,
            StrategyName::LeastTalkTime => Strategy::LeastTalkTime,
            StrategyName::Random => Strategy::Random,
            StrategyName::WeightedRandom => Strategy::WeightedRandom,
            StrategyName::RingProgressive => Strategy::RingProgressive { every },
        }
    }
}

/// When a queue counts as having nobody to answer, by the name an admin picks it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyPolicyName {
    Never,
    NoAgentLoggedIn,
    NoAgentAvailable,
}

impl From<EmptyPolicy> for EmptyPolicyName {
    fn from(policy: EmptyPolicy) -> Self {
        match policy {
            EmptyPolicy::Never => EmptyPolicyName::Never,
            EmptyPolicy::NoAgentLoggedIn => EmptyPolicyName::NoAgentLoggedIn,
            EmptyPolicy::NoAgentAvailable => EmptyPolicyName::NoAgentAvailable,
        }
    }
}

impl From<EmptyPolicyName> for EmptyPolicy {
    fn from(name: EmptyPolicyName) -> Self {
        match name {
            EmptyPolicyName::Never => EmptyPolicy::Never,
            EmptyPolicyName::NoAgentLoggedIn => EmptyPolicy::NoAgentLoggedIn,
            EmptyPolicyName::NoAgentAvailable => EmptyPolicy::NoAgentAvailable,
        }
    }
}

impl QueueSettings {
    /// Problems with this queue, `at` naming its place in the file; `numbers` are the
    /// extension numbers that exist.
    pub fn validate(&self, at: &str, extensions: &[&str], errors: &mut Vec<FieldError>) {
        let field = |f: &str| format!("{at}.{f}");
        if self.number.is_empty()
            || self.number.len() > 15
            || !self.number.chars().all(|c| c.is_ascii_digit())
        {
            errors.push(field_error(field("number"), "must be 1 to 15 digits"));
        } else if extensions.contains(&self.number.as_str()) {
            errors.push(field_error(
                field("number"),
                format!("{} is already an extension", self.number),
            ));
        }
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            errors.push(field_error(
                field("name"),
                "must be given, without control characters",
            ));
        }
        let mut range = |f: &str, value: u32, low: u32, high: u32| {
            if !(low..=high).contains(&value) {
                errors.push(field_error(
                    field(f),
                    format!("must lie between {low} and {high}"),
                ));
            }
        };
        range("ring_timeout", self.ring_timeout, 5, 600);
        range(
            "ring_progressive_every",
            self.ring_progressive_every,
            1,
            600,
        );
        range("retry_delay", self.retry_delay, 0, 600);
        range("wrap_up", self.wrap_up, 0, 3600);
        range("reject_delay", self.reject_delay, 0, 3600);
        range("service_level", self.service_level, 1, 3600);
        range("max_wait", self.max_wait, 0, 24 * 3600);
        range("tier_wait", self.tier_wait, 0, 3600);
        if let Some(cb) = self.callback {
            range("callback.attempts", cb.attempts, 1, 10);
            range("callback.retry_after", cb.retry_after, 10, 24 * 3600);
        }
        if let Some(l) = self.lost_calls {
            range("lost_calls.min_wait", l.min_wait, 0, 3600);
            range("lost_calls.expire_after", l.expire_after, 1, 7 * 24 * 60);
            range("lost_calls.attempts", l.attempts, 1, 10);
            range("lost_calls.retry_after", l.retry_after, 10, 24 * 3600);
        }
        if let Some(vip) = self.vip {
            range("vip.delay", vip.delay, 0, secs(MAX_VIP_DELAY));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, m) in self.agents.iter().enumerate() {
            let member = format!("agents[{i}].extension");
            if !extensions.contains(&m.extension.as_str()) {
                errors.push(field_error(
                    field(&member),
                    format!("{} is not an extension", m.extension),
                ));
            } else if !seen.insert(m.extension.as_str()) {
                errors.push(field_error(
                    field(&member),
                    format!("{} is listed twice", m.extension),
                ));
            }
        }
    }

    /// The engine's settings; call only on a validated queue.
    pub fn setup(&self) -> QueueSetup {
        let mut c = QueueConfig::new(
            &self.name,
            self.strategy.strategy(seconds(self.ring_progressive_every)),
        );
        c.weight = self.weight;
        c.ring_timeout = seconds(self.ring_timeout);
        c.retry_delay = seconds(self.retry_delay);
        c.wrap_up = seconds(self.wrap_up);
        c.reject_delay = seconds(self.reject_delay);
        c.max_missed = (self.max_missed > 0).then_some(self.max_missed);
        c.ring_busy_agents = self.ring_busy_agents;
        c.tier_wait = optional(self.tier_wait);
        c.max_callers = (self.max_callers > 0).then_some(self.max_callers as usize);
        c.max_wait = optional(self.max_wait);
        c.join_empty = self.join_empty.into();
        c.leave_when_empty = self.leave_when_empty.into();
        c.service_level = seconds(self.service_level);
        let a = &self.announcements;
        c.announcements = Announcements {
            position_on_join: a.position_on_join,
            position_on_change: a.position_on_change,
            position_every: optional(a.position_every),
            estimated_wait: a.estimated_wait,
            comfort_every: optional(a.comfort_every),
            ..Announcements::default()
        };
        c.callback = self.callback.map(|cb| CallbackPolicy {
            attempts: cb.attempts,
            retry_after: seconds(cb.retry_after),
        });
        c.lost_calls = self.lost_calls.map(|l| LostCallPolicy {
            min_wait: seconds(l.min_wait),
            expire_after: seconds(l.expire_after * 60),
            retry: CallbackPolicy {
                attempts: l.attempts,
                retry_after: seconds(l.retry_after),
            },
        });
        c.vip = self.vip.map(|v| VipPolicy {
            delay: seconds(v.delay),
        });
        QueueSetup {
            number: self.number.clone(),
            config: c,
            members: self
                .agents
                .iter()
                .map(|m| {
                    let membership = Membership {
                        tier: m.tier,
                        weight: m.weight,
                    };
                    (m.extension.clone(), membership)
                })
                .collect(),
        }
    }
}

impl AgentSettings {
    pub fn validate(&self, at: &str, extensions: &[&str], errors: &mut Vec<FieldError>) {
        if !extensions.contains(&self.extension.as_str()) {
            errors.push(field_error(
                format!("{at}.extension"),
                format!("{} is not an extension", self.extension),
            ));
        }
        if self.ring_timeout.is_some_and(|s| !(5..=600).contains(&s)) {
            errors.push(field_error(
                format!("{at}.ring_timeout"),
                "must lie between 5 and 600",
            ));
        }
        if self.wrap_up.is_some_and(|s| s > 3600) {
            errors.push(field_error(
                format!("{at}.wrap_up"),
                "must lie between 0 and 3600",
            ));
        }
    }

    pub fn agent_config(&self) -> AgentConfig {
        AgentConfig {
            extension: self.extension.clone(),
            ring_timeout: self.ring_timeout.map(seconds),
            wrap_up: self.wrap_up.map(seconds),
            follows_registration: self.follows_registration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use switchboard_queue::{EmptyPolicy, Strategy};
    use switchboard_store::Store;

    const EXAMPLE: &str = include_str!("../../../../docs/switchboard.example.toml");

    #[test]
    fn the_documented_example_is_valid_and_becomes_engine_settings() {
        let config = Config::from_toml(EXAMPLE).unwrap();
        let recorded = config.recording.rules().queues.get("600").copied();
        assert_eq!(recorded, Some(switchboard_core::RecordPolicy::Always));
        let setups = config.queue_setups();
        assert_eq!(setups.len(), 1);
        let sales = &setups[0];
        assert_eq!(sales.number, "600");
        assert_eq!(sales.config.strategy, Strategy::LongestIdle);
        assert_eq!(sales.config.max_wait, None, "0 means no limit");
        assert_eq!(sales.config.join_empty, EmptyPolicy::Never);
        assert_eq!(sales.config.callback.map(|c| c.attempts), Some(3));
        assert_eq!(sales.members[1].0, "101");
        assert_eq!(sales.members[1].1.tier, 1);
        let agents = config.agent_configs();
        assert_eq!(agents.len(), 2);
        let sales_101 = agents.iter().find(|a| a.extension == "101").unwrap();
        assert_eq!(sales_101.wrap_up, Some(std::time::Duration::from_secs(30)));
        assert!(agents.iter().all(|a| a.follows_registration));
    }

    #[test]
    fn queues_round_trip_through_the_store() {
        let config = Config::from_toml(EXAMPLE).unwrap();
        let mut store = Store::open_in_memory().unwrap();
        config.apply(&mut store).unwrap();
        let loaded = Config::load(&store).unwrap();
        assert_eq!(loaded.queues, config.queues);
        assert_eq!(loaded.agents, config.agents);
        assert_eq!(Config::from_toml(&loaded.to_toml()).unwrap(), loaded);
    }

    #[test]
    fn every_bad_queue_field_is_named() {
        let text = EXAMPLE
            .replace("number = \"600\"", "number = \"100\"")
            .replace("ring_timeout = 20 ", "ring_timeout = 2 ")
            .replace("attempts = 3", "attempts = 0")
            .replace(
                "extension = \"101\"\ntier = 1",
                "extension = \"999\"\ntier = 1",
            );
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!("expected field errors")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "queues[0].number",
                "queues[0].ring_timeout",
                "queues[0].callback.attempts",
                "queues[0].agents[1].extension",
                // The example's scenario sends callers to queue 600, now gone, and
                // records its calls.
                "scenarios[0].blocks.sales.queue",
                "recording.queues.600",
            ],
            "{errors:?}"
        );
        assert!(errors[0].message.contains("already an extension"));
    }

    #[test]
    fn an_unknown_strategy_or_empty_policy_is_named_with_the_choices() {
        for (from, to, field) in [
            (
                "strategy = \"longest-idle\"",
                "strategy = \"fifo\"",
                "queues[0].strategy",
            ),
            (
                "join_empty = \"never\"",
                "join_empty = \"sometimes\"",
                "queues[0].join_empty",
            ),
        ] {
            let Err(ConfigError::Invalid(errors)) = Config::from_toml(&EXAMPLE.replace(from, to))
            else {
                panic!("expected a field error for {to}")
            };
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field, field);
            assert!(errors[0].message.contains("ring-all") || errors[0].message.contains("never"));
        }
    }

    #[test]
    fn a_vip_delay_over_half_an_hour_is_refused() {
        let text = format!(
            "{EXAMPLE}\n[[queues]]\nnumber = \"601\"\nname = \"VIP\"\n[queues.vip]\ndelay = 1801\n"
        );
        let Err(ConfigError::Invalid(errors)) = Config::from_toml(&text) else {
            panic!("expected field errors")
        };
        assert_eq!(errors[0].field, "queues[1].vip.delay");
    }
}
