//! Pickup groups in the configuration: `*8` on a phone of a group answers a call
//! ringing a phone of the same group only (an extension in no group picks up any).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Config, FieldError, field_error};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupGroupSettings {
    /// What the panel calls the group ("Sales").
    pub name: String,
    /// Its extensions; one may be in several groups.
    #[serde(default)]
    pub members: Vec<String>,
}

impl Config {
    pub(super) fn validate_pickup_groups(&self, errors: &mut Vec<FieldError>) {
        let mut names = HashSet::new();
        for (i, group) in self.pickup_groups.iter().enumerate() {
            let at = |f: &str| format!("pickup_groups[{i}].{f}");
            if group.name.trim().is_empty() || group.name.chars().any(char::is_control) {
                errors.push(field_error(
                    at("name"),
                    "must be given, without control characters",
                ));
            } else if !names.insert(group.name.as_str()) {
                errors.push(field_error(
                    at("name"),
                    format!("{:?} is listed twice", group.name),
                ));
            }
            for (j, member) in group.members.iter().enumerate() {
                if !self.extensions.iter().any(|e| &e.number == member) {
                    errors.push(field_error(
                        format!("pickup_groups[{i}].members[{j}]"),
                        format!("{member} is not an extension"),
                    ));
                }
            }
        }
    }

    /// The groups as the engine takes them: their members.
    pub fn pickup_group_members(&self) -> Vec<Vec<String>> {
        self.pickup_groups
            .iter()
            .map(|g| g.members.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_that_is_no_extension_and_a_name_twice_are_named() {
        let mut config: Config = toml::from_str(
            "[[extensions]]\nnumber = \"101\"\npassword = \"a-long-passphrase\"\n\
             [[pickup_groups]]\nname = \"Sales\"\nmembers = [\"101\", \"199\"]\n\
             [[pickup_groups]]\nname = \"Sales\"\n",
        )
        .unwrap();
        let mut errors = Vec::new();
        config.validate_pickup_groups(&mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["pickup_groups[0].members[1]", "pickup_groups[1].name"]
        );
        config.pickup_groups.truncate(1);
        config.pickup_groups[0].members.truncate(1);
        errors.clear();
        config.validate_pickup_groups(&mut errors);
        assert!(errors.is_empty());
        assert_eq!(config.pickup_group_members(), [vec!["101".to_string()]]);
    }
}
