//! What each extension's phones are doing, as busy lamps show it: ringing (and for
//! whom, so a colleague can see who calls), on a call, or neither.

use std::collections::HashMap;

use super::call::{ForkState, Phase};
use super::{Legs, display_name};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lamp {
    Idle,
    /// A phone of the extension rings for `caller` (their number and display name);
    /// `call` names the call, and `tags` its caller's dialog (Switchboard's tag, then
    /// the caller's), which a phone picking it up names in Replaces.
    Ringing {
        call: String,
        tags: (String, String),
        caller: String,
        display: String,
    },
    /// The extension is on call `call`; `initiator` when it placed it.
    Busy {
        call: String,
        initiator: bool,
    },
}

impl Legs {
    /// The lamp of each of `extensions`, from one look at every call.
    pub fn lamps(&self, extensions: &[&str]) -> HashMap<String, Lamp> {
        let mut lamps: HashMap<String, Lamp> = extensions
            .iter()
            .map(|e| (e.to_string(), Lamp::Idle))
            .collect();
        for call in self.calls.values().filter(|c| c.phase != Phase::Ended) {
            let id = &call.a_dialog.call_id;
            let winner = match call.phase {
                Phase::Answered { winner } => Some(winner),
                _ => None,
            };
            for (i, fork) in call.forks.iter().enumerate() {
                let Some(lamp) = fork.target.extension().and_then(|e| lamps.get_mut(e)) else {
                    continue;
                };
                if Some(i) == winner && fork.state == ForkState::Answered {
                    *lamp = Lamp::Busy {
                        call: id.clone(),
                        initiator: false,
                    };
                } else if fork.is_pending() && *lamp == Lamp::Idle {
                    let d = &call.a_dialog;
                    let remote_tag = d
                        .remote
                        .split(';')
                        .find_map(|p| p.trim().strip_prefix("tag="));
                    *lamp = Lamp::Ringing {
                        call: id.clone(),
                        tags: (
                            d.local_tag.clone(),
                            remote_tag.unwrap_or_default().to_string(),
                        ),
                        caller: call.caller.clone(),
                        display: display_name(&call.invite)
                            .trim()
                            .trim_matches('"')
                            .to_string(),
                    };
                }
            }
            // Whoever the call keeps busy (its caller, a callee that answered): a
            // queue's agent is known by the answered fork above.
            for extension in &call.busy {
                if let Some(lamp) = lamps.get_mut(extension) {
                    let initiator = *extension == call.caller;
                    *lamp = Lamp::Busy {
                        call: id.clone(),
                        initiator,
                    };
                }
            }
        }
        lamps
    }
}
