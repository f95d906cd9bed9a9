//! Which calls are recorded: the office's rule for each direction, and rules of its own
//! for an extension, a queue or a trunk. A call is recorded when its parties' rules say
//! so once it is answered; on demand, when an office phone in it types the record code.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::record::Direction;

/// The record code when the configuration does not say: `*1`, as in FreePBX and
/// Asterisk's one-touch recording. Typed again, it pauses; again, it goes on.
pub const DEFAULT_RECORD_CODE: &str = "*1";

/// The name of call `key`'s recording, begun at `started`, in the recordings' folder:
/// no other call has it, and a call cut by a kill is matched with its file from what
/// its open record kept.
pub fn file_name(started: std::time::SystemTime, key: crate::CallKey) -> String {
    format!("{}-{key}.opus", crate::record::unix_ms::from(started))
}

/// Whether calls are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RecordPolicy {
    /// From the answer to the end.
    Always,
    /// Only once an office phone in the call types the record code.
    #[default]
    OnDemand,
    /// Not at all, not even by the record code.
    Never,
}

/// The office's recording rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingRules {
    pub inbound: RecordPolicy,
    pub outbound: RecordPolicy,
    pub internal: RecordPolicy,
    /// Rules of extensions, queues (by number) and trunks (by name) that have one.
    pub extensions: HashMap<String, RecordPolicy>,
    pub queues: HashMap<String, RecordPolicy>,
    pub trunks: HashMap<String, RecordPolicy>,
    /// The customer (a call in or out through a trunk) is told "this call is
    /// recorded" when its recording starts.
    pub announce: bool,
}

/// Who an answered call joins, as its rules are looked up.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Parties<'a> {
    pub direction: Direction,
    pub extensions: [Option<&'a str>; 2],
    pub queue: Option<&'a str>,
    pub trunk: Option<&'a str>,
}

impl RecordingRules {
    /// A party's own rule overrides the direction's: "never" anywhere wins (an
    /// extension that must not be recorded is not, whatever its queue says), then
    /// "always", then "on demand".
    pub(crate) fn policy(&self, parties: &Parties<'_>) -> RecordPolicy {
        let own = |rules: &HashMap<String, RecordPolicy>, name: Option<&str>| {
            name.and_then(|n| rules.get(n)).copied()
        };
        let mut found = parties
            .extensions
            .iter()
            .map(|e| own(&self.extensions, *e))
            .chain([
                own(&self.queues, parties.queue),
                own(&self.trunks, parties.trunk),
            ])
            .flatten()
            .peekable();
        if found.peek().is_none() {
            return match parties.direction {
                Direction::Inbound => self.inbound,
                Direction::Outbound => self.outbound,
                Direction::Internal => self.internal,
            };
        }
        let found: Vec<RecordPolicy> = found.collect();
        [RecordPolicy::Never, RecordPolicy::Always]
            .into_iter()
            .find(|p| found.contains(p))
            .unwrap_or(RecordPolicy::OnDemand)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RecordingRules {
        RecordingRules {
            inbound: RecordPolicy::Always,
            extensions: HashMap::from([
                ("105".into(), RecordPolicy::Never),
                ("106".into(), RecordPolicy::OnDemand),
            ]),
            queues: HashMap::from([("600".into(), RecordPolicy::Always)]),
            ..RecordingRules::default()
        }
    }

    fn parties<'a>(
        direction: Direction,
        extensions: [Option<&'a str>; 2],
        queue: Option<&'a str>,
    ) -> Parties<'a> {
        Parties {
            direction,
            extensions,
            queue,
            trunk: None,
        }
    }

    #[test]
    fn the_direction_decides_when_no_party_has_a_rule() {
        let r = rules();
        let inbound = parties(Direction::Inbound, [None, Some("101")], None);
        assert_eq!(r.policy(&inbound), RecordPolicy::Always);
        let internal = parties(Direction::Internal, [Some("100"), Some("101")], None);
        assert_eq!(r.policy(&internal), RecordPolicy::OnDemand);
    }

    #[test]
    fn a_party_rule_overrides_the_direction_and_never_wins() {
        let r = rules();
        let queue = parties(Direction::Internal, [Some("100"), Some("101")], Some("600"));
        assert_eq!(r.policy(&queue), RecordPolicy::Always);
        let private = parties(Direction::Inbound, [None, Some("105")], Some("600"));
        assert_eq!(r.policy(&private), RecordPolicy::Never);
        let asked = parties(Direction::Inbound, [None, Some("106")], None);
        assert_eq!(r.policy(&asked), RecordPolicy::OnDemand);
    }
}
