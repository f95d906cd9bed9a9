//! Conference rooms in the configuration: a number office phones dial to talk
//! together, an optional PIN, and how many may be in at once.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use switchboard_core::ConferenceRoom;

use super::{Config, FieldError, field_error};

/// How many a room takes when the configuration does not say.
const DEFAULT_MAX_MEMBERS: u32 = 10;
/// The most a room may take: past this the mixing of one room would hold a media
/// thread too long.
const MAX_MEMBERS: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConferenceSettings {
    /// The number office phones dial to join (1 to 15 digits).
    pub number: String,
    /// What the panel calls the room.
    #[serde(default)]
    pub name: String,
    /// Digits a caller types, then #, to get in; empty: nobody is asked. A caller a
    /// desk phone transfers in is never asked.
    #[serde(default)]
    pub pin: String,
    /// The most people in the room at once, 2 to 50.
    #[serde(default = "default_max_members")]
    pub max_members: u32,
}

fn default_max_members() -> u32 {
    DEFAULT_MAX_MEMBERS
}

impl Config {
    pub(super) fn validate_conferences(&self, errors: &mut Vec<FieldError>) {
        let taken: HashSet<&str> = self
            .extensions
            .iter()
            .map(|e| e.number.as_str())
            .chain(self.queues.iter().map(|q| q.number.as_str()))
            .chain(self.inbound.iter().map(|n| n.number.as_str()))
            .collect();
        let mut seen = HashSet::new();
        for (i, room) in self.conferences.iter().enumerate() {
            let at = |f: &str| format!("conferences[{i}].{f}");
            let number = room.number.as_str();
            if number.is_empty() || number.len() > 15 || !number.bytes().all(|b| b.is_ascii_digit())
            {
                errors.push(field_error(at("number"), "must be 1 to 15 digits"));
            } else if taken.contains(number) {
                errors.push(field_error(
                    at("number"),
                    format!("{number} is already an extension, a queue or an inbound number"),
                ));
            } else if !seen.insert(number) {
                errors.push(field_error(
                    at("number"),
                    format!("{number} is listed twice"),
                ));
            }
            if room.name.chars().any(char::is_control) {
                errors.push(field_error(
                    at("name"),
                    "must not contain control characters",
                ));
            }
            if !room.pin.is_empty()
                && (room.pin.len() > 12 || !room.pin.bytes().all(|b| b.is_ascii_digit()))
            {
                errors.push(field_error(at("pin"), "must be 1 to 12 digits, or empty"));
            }
            if !(2..=MAX_MEMBERS).contains(&room.max_members) {
                errors.push(field_error(
                    at("max_members"),
                    format!("must lie between 2 and {MAX_MEMBERS}"),
                ));
            }
        }
    }

    /// The rooms as the engine takes them.
    pub fn conference_rooms(&self) -> Vec<ConferenceRoom> {
        self.conferences
            .iter()
            .map(|c| ConferenceRoom {
                number: c.number.clone(),
                name: c.name.clone(),
                pin: (!c.pin.is_empty()).then(|| c.pin.clone()),
                max_members: c.max_members as usize,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(number: &str, pin: &str, max_members: u32) -> ConferenceSettings {
        ConferenceSettings {
            number: number.into(),
            name: "Team".into(),
            pin: pin.into(),
            max_members,
        }
    }

    fn errors(config: &Config) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        config.validate_conferences(&mut errors);
        errors.into_iter().map(|e| (e.field, e.message)).collect()
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut config: Config =
            toml::from_str("[[extensions]]\nnumber = \"101\"\npassword = \"a-long-passphrase\"\n")
                .unwrap();
        config.conferences = vec![
            room("800", "2468", 10),
            room("800", "", 10),
            room("101", "", 10),
            room("8x", "12ab", 1),
            room("801", "1234567890123", 51),
        ];
        let fields: Vec<String> = errors(&config).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "conferences[1].number",
                "conferences[2].number",
                "conferences[3].number",
                "conferences[3].pin",
                "conferences[3].max_members",
                "conferences[4].pin",
                "conferences[4].max_members",
            ]
        );
        config.conferences.truncate(1);
        assert!(errors(&config).is_empty());
        assert_eq!(config.conference_rooms()[0].pin.as_deref(), Some("2468"));
    }

    #[test]
    fn a_room_in_a_file_takes_ten_people_and_no_pin_unless_it_says() {
        let config: Config = toml::from_str("[[conferences]]\nnumber = \"800\"\n").unwrap();
        let rooms = config.conference_rooms();
        assert_eq!((rooms[0].max_members, rooms[0].pin.clone()), (10, None));
    }
}
