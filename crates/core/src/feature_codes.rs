//! The codes office phones dial for Switchboard's features. An office may change them
//! (the PBX it replaces had others, or an extension needs the number); the defaults are
//! the ones most PBXs share.

use crate::features::queue::codes::FeatureCode;
use crate::features::supervise::How;

/// How many park slots there are: the park code with its last digit 1 to 9.
pub const PARK_SLOTS: usize = 9;

/// What office phones dial to pick up, park, supervise, open voicemail and change an
/// agent's status (the configuration's `[feature_codes]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct FeatureCodes {
    /// An agent logs in to their queues, or out ("*45").
    pub agent_login: String,
    /// An agent takes a break, or ends it ("*46").
    pub agent_break: String,
    /// Answers a call ringing a phone of the caller's pickup group ("*8").
    pub pickup: String,
    /// Followed by an extension, answers the call ringing it ("**").
    pub directed_pickup: String,
    /// A call transferred to it is parked; it ends in 0, and its slots are the same
    /// number ending in 1 to 9 ("*70": slots "*71" to "*79").
    pub park: String,
    /// Followed by an extension, a supervisor listens to its call ("*90").
    pub listen: String,
    /// Followed by an extension, a supervisor whispers to it ("*91").
    pub whisper: String,
    /// Followed by an extension, a supervisor barges into its call ("*92").
    pub barge: String,
    /// The voicemail menu: alone, the caller's own box; followed by a box's number,
    /// that box ("*97").
    pub voicemail: String,
}

impl Default for FeatureCodes {
    fn default() -> Self {
        FeatureCodes {
            agent_login: "*45".into(),
            agent_break: "*46".into(),
            pickup: "*8".into(),
            directed_pickup: "**".into(),
            park: "*70".into(),
            listen: "*90".into(),
            whisper: "*91".into(),
            barge: "*92".into(),
            voicemail: "*97".into(),
        }
    }
}

impl FeatureCodes {
    /// Each code by its name in the configuration, and whether a number follows it.
    pub fn named(&self) -> [(&'static str, &str, bool); 9] {
        [
            ("agent_login", &self.agent_login, false),
            ("agent_break", &self.agent_break, false),
            ("pickup", &self.pickup, false),
            ("directed_pickup", &self.directed_pickup, true),
            ("park", &self.park, false),
            ("listen", &self.listen, true),
            ("whisper", &self.whisper, true),
            ("barge", &self.barge, true),
            ("voicemail", &self.voicemail, true),
        ]
    }

    /// The agent's status code `dialled` is.
    pub fn agent_code(&self, dialled: &str) -> Option<FeatureCode> {
        if dialled == self.agent_login {
            Some(FeatureCode::LogInOut)
        } else if dialled == self.agent_break {
            Some(FeatureCode::Break)
        } else {
            None
        }
    }

    /// A supervisor's code and the extension after it: `*90101` listens to 101.
    pub fn supervise<'a>(&self, dialled: &'a str) -> Option<(How, &'a str)> {
        [How::Listen, How::Whisper, How::Barge]
            .into_iter()
            .find_map(|how| {
                let extension = dialled.strip_prefix(self.supervise_code(how))?;
                let digits = !extension.is_empty() && extension.bytes().all(|b| b.is_ascii_digit());
                digits.then_some((how, extension))
            })
    }

    /// The code a supervisor dials to take part `how`.
    pub fn supervise_code(&self, how: How) -> &str {
        match how {
            How::Listen => &self.listen,
            How::Whisper => &self.whisper,
            How::Barge => &self.barge,
        }
    }

    /// The extension a directed pickup (`**101`) names.
    pub fn directed_pickup<'a>(&self, dialled: &'a str) -> Option<&'a str> {
        dialled.strip_prefix(self.directed_pickup.as_str())
    }

    /// Park slot `index`'s number: `*71` for the first.
    pub fn park_slot(&self, index: usize) -> String {
        format!("{}{}", self.park_stem(), index + 1)
    }

    /// The park code without its last key (any text: a code is checked after this).
    fn park_stem(&self) -> &str {
        self.park
            .char_indices()
            .last()
            .map_or("", |(last, _)| &self.park[..last])
    }

    /// The park slot index a dialled slot number names.
    pub fn park_slot_index(&self, dialled: &str) -> Option<usize> {
        let stem = self.park_stem();
        let digit = dialled.strip_prefix(stem).filter(|d| d.len() == 1)?;
        let n: usize = digit.parse().ok()?;
        (1..=PARK_SLOTS).contains(&n).then(|| n - 1)
    }

    /// The box a number dialled opens: the voicemail code alone, the caller's own; the
    /// code and digits, that box.
    pub fn voicemail_box(&self, dialled: &str, caller: &str) -> Option<String> {
        let rest = dialled.strip_prefix(self.voicemail.as_str())?;
        if rest.is_empty() {
            return Some(caller.to_string());
        }
        rest.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| rest.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_codes_name_what_they_do() {
        let codes = FeatureCodes::default();
        assert_eq!(codes.agent_code("*45"), Some(FeatureCode::LogInOut));
        assert_eq!(codes.agent_code("*46"), Some(FeatureCode::Break));
        assert_eq!(codes.supervise("*90101"), Some((How::Listen, "101")));
        assert_eq!(codes.supervise("*91101"), Some((How::Whisper, "101")));
        assert_eq!(codes.supervise("*92101"), Some((How::Barge, "101")));
        for not in ["*90", "*93101", "*9010a", "90101", "*97101", "*9"] {
            assert_eq!(codes.supervise(not), None, "{not}");
        }
        assert_eq!(codes.directed_pickup("**101"), Some("101"));
        assert_eq!(codes.voicemail_box("*97", "101").as_deref(), Some("101"));
        assert_eq!(codes.voicemail_box("*97600", "101").as_deref(), Some("600"));
        assert_eq!(codes.voicemail_box("*97x", "101"), None);
        assert_eq!(codes.voicemail_box("*45", "101"), None);
    }

    /// Bug (the API's generated requests found it): a park code ending in a letter
    /// outside ASCII panicked while the form was checked.
    #[test]
    fn any_text_as_a_park_code_makes_slots_without_panicking() {
        let codes = FeatureCodes {
            park: "\"à\u{9a}í".into(),
            ..FeatureCodes::default()
        };
        assert_eq!(codes.park_slot(0), "\"à\u{9a}1");
        assert_eq!(codes.park_slot_index("*71"), None);
        let empty = FeatureCodes {
            park: String::new(),
            ..FeatureCodes::default()
        };
        assert_eq!(empty.park_slot(0), "1");
    }

    #[test]
    fn park_slots_follow_the_park_code() {
        let codes = FeatureCodes::default();
        assert_eq!(codes.park_slot(0), "*71");
        assert_eq!(codes.park_slot_index("*71"), Some(0));
        assert_eq!(codes.park_slot_index("*79"), Some(8));
        for not in ["*70", "*7", "*710", "71", "*7a"] {
            assert_eq!(codes.park_slot_index(not), None, "{not}");
        }
        let office = FeatureCodes {
            park: "700".into(),
            ..FeatureCodes::default()
        };
        assert_eq!(office.park_slot(2), "703");
        assert_eq!(office.park_slot_index("709"), Some(8));
        assert_eq!(office.park_slot_index("*71"), None);
    }
}
