//! Calls out: which route a number dialled by an extension takes (its patterns, the
//! digits stripped and prepended, the trunks in order), what class of call it is, and
//! whether the extension may make it. Emergency numbers always go out, first. A call
//! that arrived from a trunk never reaches these rules: Switchboard is no relay.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, SystemTime};

/// What a call costs the office, as permissions are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallClass {
    Local,
    National,
    Mobile,
    International,
    /// Premium-rate services.
    Premium,
    /// Emergency services: allowed to everyone, whatever their classes.
    Emergency,
}

/// A dial pattern in the notation PBXs share: digits match themselves, `X` any digit,
/// `Z` 1–9, `N` 2–9, `[1-5]` or `[137]` a set, and a final `.` one or more further
/// digits; a leading `+` matches itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialPattern {
    elements: Vec<Element>,
    more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Element {
    Exactly(char),
    /// Digits allowed here, as a bit set of 0–9.
    Digits(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatternError(pub String);

impl std::str::FromStr for DialPattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = |why: &str| Err(PatternError(format!("{text:?}: {why}")));
        let mut elements = Vec::new();
        let mut more = false;
        let mut chars = text.trim().chars().peekable();
        let range = |from: u32, to: u32| (from..=to).fold(0u16, |set, d| set | 1 << d);
        while let Some(c) = chars.next() {
            if more {
                return fail("\".\" may only end a pattern");
            }
            elements.push(match c.to_ascii_uppercase() {
                '0'..='9' | '*' | '#' => Element::Exactly(c),
                '+' if elements.is_empty() => Element::Exactly('+'),
                'X' => Element::Digits(range(0, 9)),
                'Z' => Element::Digits(range(1, 9)),
                'N' => Element::Digits(range(2, 9)),
                '.' => {
                    more = true;
                    continue;
                }
                '[' => {
                    let mut set = 0u16;
                    let mut previous = None;
                    loop {
                        match chars.next() {
                            Some(']') => break,
                            Some('-') => match (previous, chars.next()) {
                                (Some(from), Some(to @ '0'..='9')) => {
                                    let to = to.to_digit(10).unwrap_or(0);
                                    if to < from {
                                        return fail("a range runs from low to high");
                                    }
                                    set |= range(from, to);
                                }
                                _ => return fail("a range is written like [1-5]"),
                            },
                            Some(d @ '0'..='9') => {
                                let d = d.to_digit(10).unwrap_or(0);
                                set |= 1 << d;
                                previous = Some(d);
                            }
                            _ => return fail("a set holds digits, like [137] or [1-5]"),
                        }
                    }
                    if set == 0 {
                        return fail("an empty set matches nothing");
                    }
                    Element::Digits(set)
                }
                _ => return fail("use digits, X, Z, N, [sets] and a final \".\""),
            });
        }
        if elements.is_empty() {
            return fail("empty");
        }
        Ok(DialPattern { elements, more })
    }
}

impl DialPattern {
    pub fn matches(&self, number: &str) -> bool {
        let chars: Vec<char> = number.chars().collect();
        let fixed = self.elements.len();
        let length_fits = if self.more {
            chars.len() > fixed && chars[fixed..].iter().all(char::is_ascii_digit)
        } else {
            chars.len() == fixed
        };
        length_fits
            && self.elements.iter().zip(&chars).all(|(e, &c)| match e {
                Element::Exactly(x) => *x == c,
                Element::Digits(set) => c.to_digit(10).is_some_and(|d| set & (1 << d) != 0),
            })
    }
}

/// One outbound route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRoute {
    pub name: String,
    pub patterns: Vec<DialPattern>,
    /// Digits removed from the front of the number dialled…
    pub strip: usize,
    /// …and what is put before the rest.
    pub prepend: String,
    pub class: CallClass,
    /// Tried in order: the next on no answer from a provider or its 5xx.
    pub trunks: Vec<String>,
    /// The number the called party is shown; none: the trunk's account.
    pub caller_id: Option<String>,
}

/// The office's rules for calls out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundRules {
    pub routes: Vec<OutboundRoute>,
    /// Numbers that always go out, as dialled, through every trunk in turn.
    pub emergency: Vec<String>,
    /// Every trunk's name in configuration order, for emergency calls.
    pub all_trunks: Vec<String>,
    /// What an extension may call unless it has classes of its own.
    pub default_classes: BTreeSet<CallClass>,
    pub classes: HashMap<String, BTreeSet<CallClass>>,
    /// Calls out one extension may have at once; 0: none at all.
    pub max_calls_per_extension: u32,
    /// Minutes an extension may talk out a day; 0: no limit.
    pub minutes_per_day: u32,
    /// Extensions' own daily minutes, in place of `minutes_per_day`.
    pub minutes: HashMap<String, u32>,
    /// Where the office's day begins and ends; none: UTC.
    pub zone: Option<jiff::tz::TimeZone>,
}

/// Where a number dialled goes out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// The number as the provider is given it.
    pub number: String,
    pub class: CallClass,
    pub route: String,
    pub trunks: Vec<String>,
    pub caller_id: Option<String>,
}

impl OutboundRules {
    /// An emergency number, always first.
    pub fn emergency(&self, dialled: &str) -> Option<Dial> {
        self.emergency.iter().any(|e| e == dialled).then(|| Dial {
            number: dialled.to_string(),
            class: CallClass::Emergency,
            route: "emergency".into(),
            trunks: self.all_trunks.clone(),
            caller_id: None,
        })
    }

    /// The first route whose pattern matches `dialled`, the number rewritten for it.
    pub fn dial(&self, dialled: &str) -> Option<Dial> {
        self.emergency(dialled).or_else(|| {
            let route = self
                .routes
                .iter()
                .find(|r| r.patterns.iter().any(|p| p.matches(dialled)))?;
            let rest = dialled
                .get(route.strip.min(dialled.len())..)
                .unwrap_or_default();
            Some(Dial {
                number: format!("{}{rest}", route.prepend),
                class: route.class,
                route: route.name.clone(),
                trunks: route.trunks.clone(),
                caller_id: route.caller_id.clone(),
            })
        })
    }

    /// Whether `extension` may make a call of `class`.
    /// How long `extension` may talk out a day; none: no limit.
    pub fn daily_talk(&self, extension: &str) -> Option<Duration> {
        let minutes = self
            .minutes
            .get(extension)
            .copied()
            .unwrap_or(self.minutes_per_day);
        (minutes > 0).then(|| Duration::from_secs(u64::from(minutes) * 60))
    }

    /// The office's day that `wall` falls on.
    pub fn day_of(&self, wall: SystemTime) -> jiff::civil::Date {
        let zone = self.zone.clone().unwrap_or(jiff::tz::TimeZone::UTC);
        jiff::Timestamp::try_from(wall)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(zone)
            .date()
    }

    pub fn allows(&self, extension: &str, class: CallClass) -> bool {
        class == CallClass::Emergency
            || self
                .classes
                .get(extension)
                .unwrap_or(&self.default_classes)
                .contains(&class)
    }
}

/// Each extension's talk time out on one day (the office's), for the daily limit.
#[derive(Debug, Default)]
pub(crate) struct TalkOut {
    day: Option<jiff::civil::Date>,
    talked: HashMap<String, Duration>,
}

impl TalkOut {
    /// What `extension` has talked out on `day`.
    pub fn on(&self, day: jiff::civil::Date, extension: &str) -> Duration {
        match self.day {
            Some(d) if d == day => self.talked.get(extension).copied().unwrap_or_default(),
            _ => Duration::ZERO,
        }
    }

    /// `extension` talked out `talk` more, on a call that ended on `day`.
    pub fn add(&mut self, day: jiff::civil::Date, extension: &str, talk: Duration) {
        if self.day != Some(day) {
            self.day = Some(day);
            self.talked.clear();
        }
        *self.talked.entry(extension.to_string()).or_default() += talk;
    }
}

/// A call out the toll-fraud guard or a limit kept from going out, as the wallboard
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutAlert {
    pub at: SystemTime,
    pub caller: String,
    /// The number as dialled.
    pub number: String,
    pub reason: String,
}

/// The latest [`OutAlert`]s, newest last: a wallboard shows a few, the call log keeps
/// them all.
#[derive(Debug, Default)]
pub(crate) struct OutAlerts(VecDeque<OutAlert>);

impl OutAlerts {
    const KEPT: usize = 20;

    pub fn push(&mut self, alert: OutAlert) {
        if self.0.len() == Self::KEPT {
            self.0.pop_front();
        }
        self.0.push_back(alert);
    }

    pub fn latest(&self) -> impl Iterator<Item = &OutAlert> {
        self.0.iter().rev()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> DialPattern {
        text.parse().unwrap()
    }

    #[test]
    fn patterns_match_as_pbxs_write_them() {
        let national = pattern("0XXXXXXXXX");
        assert!(national.matches("0601000000"));
        assert!(!national.matches("060100000"), "too short");
        assert!(!national.matches("06010000001"), "too long");
        let abroad = pattern("00.");
        assert!(abroad.matches("004420794600"));
        assert!(
            !abroad.matches("00"),
            "the dot needs at least one more digit"
        );
        assert!(pattern("N[1-3]5").matches("415"));
        assert!(!pattern("N[1-3]5").matches("145"));
        assert!(pattern("[137]Z").matches("71"));
        assert!(!pattern("[137]Z").matches("70"));
        assert!(pattern("+48.").matches("+48601000000"));
        for bad in ["", "0X.X", "[]", "[5-1]", "0A", "[x]"] {
            assert!(bad.parse::<DialPattern>().is_err(), "{bad}");
        }
    }

    fn rules() -> OutboundRules {
        OutboundRules {
            routes: vec![
                OutboundRoute {
                    name: "Abroad".into(),
                    patterns: vec![pattern("00.")],
                    strip: 2,
                    prepend: "+".into(),
                    class: CallClass::International,
                    trunks: vec!["Provider".into()],
                    caller_id: None,
                },
                OutboundRoute {
                    name: "Mobiles".into(),
                    patterns: vec![pattern("0[5-8]XXXXXXXX")],
                    strip: 1,
                    prepend: "+48".into(),
                    class: CallClass::Mobile,
                    trunks: vec!["Provider".into(), "Backup".into()],
                    caller_id: Some("+48225550100".into()),
                },
            ],
            emergency: vec!["112".into(), "999".into()],
            all_trunks: vec!["Provider".into(), "Backup".into()],
            default_classes: [CallClass::Local, CallClass::Mobile].into(),
            classes: [("101".to_string(), [CallClass::International].into())].into(),
            max_calls_per_extension: 2,
            ..OutboundRules::default()
        }
    }

    #[test]
    fn a_number_takes_the_first_route_that_matches_rewritten_for_it() {
        let rules = rules();
        let mobile = rules.dial("0601000000").unwrap();
        assert_eq!(
            (mobile.number.as_str(), mobile.class, mobile.trunks.len()),
            ("+48601000000", CallClass::Mobile, 2)
        );
        assert_eq!(rules.dial("0044207946001").unwrap().number, "+44207946001");
        assert_eq!(rules.dial("0112345678"), None);
        let emergency = rules.dial("112").unwrap();
        assert_eq!(
            (
                emergency.number.as_str(),
                emergency.class,
                emergency.trunks.len()
            ),
            ("112", CallClass::Emergency, 2)
        );
    }

    #[test]
    fn an_extension_calls_only_its_classes_and_everyone_emergency() {
        let rules = rules();
        assert!(rules.allows("100", CallClass::Mobile));
        assert!(!rules.allows("100", CallClass::International));
        assert!(rules.allows("101", CallClass::International));
        assert!(
            !rules.allows("101", CallClass::Mobile),
            "its own classes replace the default"
        );
        assert!(rules.allows("101", CallClass::Emergency));
        assert!(rules.allows("100", CallClass::Emergency));
    }
}
