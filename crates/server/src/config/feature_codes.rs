//! Feature codes in the configuration: what office phones dial to pick up, park,
//! supervise, open voicemail and change an agent's status. A code is refused when
//! another is the same or begins with it (the phone could never reach the other), or
//! when it would take a number the office has.

use super::{Config, FieldError, field_error};

/// The longest code.
const MAX_CODE: usize = 6;

impl Config {
    pub(super) fn validate_feature_codes(&self, errors: &mut Vec<FieldError>) {
        let codes = &self.feature_codes;
        let named = codes.named();
        // What each code makes the phones' dialling mean: the code itself, and for the
        // park code its slots too; whether a number follows it.
        let meanings: Vec<(Vec<String>, bool)> = named
            .iter()
            .map(|&(name, code, prefix)| {
                let mut dialled = vec![code.to_string()];
                if name == "park" {
                    dialled.extend((0..switchboard_core::PARK_SLOTS).map(|i| codes.park_slot(i)));
                }
                (dialled, prefix)
            })
            .collect();
        let numbers = self.office_numbers();
        for (i, &(name, code, _)) in named.iter().enumerate() {
            let at = format!("feature_codes.{name}");
            if code.is_empty()
                || code.len() > MAX_CODE
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
            {
                let why = format!("must be 1 to {MAX_CODE} of the keys 0-9, * and #");
                errors.push(field_error(at, why));
            } else if name == "park" && (code.len() < 2 || !code.ends_with('0')) {
                let why = "must end in 0 (its slots are the same number ending in 1 to 9)";
                errors.push(field_error(at, why));
            } else if let Some(j) = (0..named.len())
                .find(|&j| j != i && overlap(&meanings[i], (&meanings[j].0, meanings[j].1)))
            {
                let why = format!(
                    "is the same as feature_codes.{}, or one begins the other",
                    named[j].0
                );
                errors.push(field_error(at, why));
            } else if let Some((number, what)) = numbers
                .iter()
                .find(|(n, _)| overlap(&meanings[i], (&[n.to_string()], false)))
            {
                let why = format!("would take {what} {number}; choose another code");
                errors.push(field_error(at, why));
            }
        }
    }

    /// Every number the office answers, and what it is.
    fn office_numbers(&self) -> Vec<(&str, &'static str)> {
        let extensions = self
            .extensions
            .iter()
            .map(|e| (e.number.as_str(), "extension"));
        let queues = self.queues.iter().map(|q| (q.number.as_str(), "queue"));
        let inbound = self
            .inbound
            .iter()
            .map(|n| (n.number.as_str(), "inbound number"));
        let rooms = self
            .conferences
            .iter()
            .map(|r| (r.number.as_str(), "conference room"));
        extensions
            .chain(queues)
            .chain(inbound)
            .chain(rooms)
            .collect()
    }
}

/// Whether two sets of dialled numbers can be confused: one is the other, or one that
/// a number follows begins the other.
fn overlap((a, a_prefix): &(Vec<String>, bool), (b, b_prefix): (&[String], bool)) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            x == y
                || (*a_prefix && y.starts_with(x.as_str()))
                || (b_prefix && x.starts_with(y.as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(toml: &str) -> Vec<(String, String)> {
        let config: Config = toml::from_str(toml).unwrap();
        let mut errors = Vec::new();
        config.validate_feature_codes(&mut errors);
        errors.into_iter().map(|e| (e.field, e.message)).collect()
    }

    #[test]
    fn the_usual_codes_pass_and_reach_the_engine() {
        assert!(errors_of("").is_empty());
        let config: Config = toml::from_str("[feature_codes]\npickup = \"#8\"\n").unwrap();
        assert_eq!(config.feature_codes.pickup, "#8");
        assert_eq!(config.feature_codes.park, "*70");
    }

    #[test]
    fn a_code_that_is_bad_the_same_as_another_or_takes_a_number_is_named() {
        let errors = errors_of(
            "[[extensions]]\nnumber = \"971\"\npassword = \"a-long-passphrase\"\n\
             [feature_codes]\npickup = \"*8a\"\nagent_break = \"*45\"\npark = \"*75\"\n\
             voicemail = \"97\"\n",
        );
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "feature_codes.agent_login",
                "feature_codes.agent_break",
                "feature_codes.pickup",
                "feature_codes.park",
                "feature_codes.voicemail"
            ],
            "{errors:#?}"
        );
        assert!(errors[4].1.contains("extension 971"), "{errors:#?}");
    }

    #[test]
    fn park_slots_may_not_land_on_another_code() {
        let errors = errors_of("[feature_codes]\npark = \"*90\"\n");
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert!(fields.contains(&"feature_codes.park"), "{errors:#?}");
    }
}
