//! Where a new call goes, decided from the number dialled and who dials it alone.

use std::sync::Arc;

use switchboard_queue::QueueId;
use switchboard_scenario::model::Scenario;

use crate::feature_codes::FeatureCodes;
use crate::features::queue::codes::FeatureCode;
use crate::features::supervise::How;
use crate::outbound::Dial;

/// Where a new call goes.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    /// The caller is on a block list: declined, after being told when the list says so.
    Blocked {
        reason: String,
        tell: bool,
    },
    Queue(QueueId),
    /// An agent's status code.
    FeatureCode(FeatureCode),
    /// An inbound number's scenario.
    Scenario(Arc<Scenario>),
    /// The voicemail menu of a box.
    Mailbox(String),
    /// A message left straight in a box: `*` and the box's number.
    LeaveMessage(String),
    /// Answers a call ringing another phone: that extension's (`**` and its number),
    /// or any (`*8`).
    Pickup(Option<String>),
    /// The park code: a call transferred here is parked.
    Park,
    /// Takes the call parked in this slot (`*71`…`*79`).
    Retrieve(String),
    /// A conference room, by its number.
    Conference(String),
    /// A supervisor's code: listen to, whisper to or barge into an extension's call.
    Supervise {
        extension: String,
        how: How,
    },
    /// An extension's phones ring (or the caller hears why none can).
    Extension,
    /// No such number: a call from a trunk to a number the office does not answer.
    Nowhere,
    /// Out through a trunk, as an outbound route or the emergency numbers say.
    Out(Dial),
}

/// What the office has that a number can reach.
pub(crate) trait Directory {
    /// Why `caller` is blocked, and whether they are told before being declined.
    fn blocked(&self, caller: &str) -> Option<(String, bool)>;
    fn queue(&self, number: &str) -> Option<QueueId>;
    /// The scenario of the inbound number `number`.
    fn scenario(&self, number: &str) -> Option<Arc<Scenario>>;
    fn scenario_named(&self, name: &str) -> Option<Arc<Scenario>>;
    fn is_mailbox(&self, number: &str) -> bool;
    fn is_extension(&self, number: &str) -> bool;
    fn is_conference(&self, number: &str) -> bool;
    /// The number as an emergency call out.
    fn emergency(&self, dialled: &str) -> Option<Dial>;
    /// The number out through the first outbound route that takes it.
    fn outbound(&self, dialled: &str) -> Option<Dial>;
    fn codes(&self) -> &FeatureCodes;
}

/// A blocked caller reaches nothing; an emergency number always goes out, first;
/// otherwise a queue's number, an agent's code, a pickup, park or supervisor's code, an inbound
/// number, a conference room, the voicemail code, `*` and a box's number, in that
/// order, then the extensions, then the outbound routes.
pub(crate) fn route(dialled: &str, caller: &str, office: &impl Directory) -> Route {
    if let Some((reason, tell)) = office.blocked(caller) {
        return Route::Blocked { reason, tell };
    }
    if let Some(dial) = office.emergency(dialled) {
        return Route::Out(dial);
    }
    if let Some(queue) = office.queue(dialled) {
        return Route::Queue(queue);
    }
    let codes = office.codes();
    if let Some(code) = codes.agent_code(dialled) {
        return Route::FeatureCode(code);
    }
    if dialled == codes.pickup {
        return Route::Pickup(None);
    }
    if dialled == codes.park {
        return Route::Park;
    }
    if codes.park_slot_index(dialled).is_some() {
        return Route::Retrieve(dialled.to_string());
    }
    if let Some((how, extension)) = codes.supervise(dialled) {
        return Route::Supervise {
            extension: extension.to_string(),
            how,
        };
    }
    if let Some(extension) = codes
        .directed_pickup(dialled)
        .filter(|e| office.is_extension(e))
    {
        return Route::Pickup(Some(extension.to_string()));
    }
    if let Some(scenario) = office.scenario(dialled) {
        return Route::Scenario(scenario);
    }
    if office.is_conference(dialled) {
        return Route::Conference(dialled.to_string());
    }
    if let Some(mailbox) = codes
        .voicemail_box(dialled, caller)
        .filter(|b| office.is_mailbox(b))
    {
        return Route::Mailbox(mailbox);
    }
    if let Some(mailbox) = dialled.strip_prefix('*').filter(|b| office.is_mailbox(b)) {
        return Route::LeaveMessage(mailbox.to_string());
    }
    match office.outbound(dialled) {
        Some(dial) if !office.is_extension(dialled) => Route::Out(dial),
        _ => Route::Extension,
    }
}

/// Where a customer's call from a trunk goes: a blocked caller nowhere; the office
/// number dialled to its scenario, else to the trunk's scenario for other numbers
/// (`unknown`), else nowhere. Never straight to an extension, a queue or a code: those
/// are the office's own, and a trunk call never goes out again.
pub(crate) fn route_in(
    dialled: &str,
    caller: &str,
    unknown: Option<&str>,
    office: &impl Directory,
) -> Route {
    if let Some((reason, tell)) = office.blocked(caller) {
        return Route::Blocked { reason, tell };
    }
    office
        .scenario(dialled)
        .or_else(|| office.scenario_named(unknown?))
        .map_or(Route::Nowhere, Route::Scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An office with queue 600, scenario number 700, extensions 101 and 102, and 666
    /// blocked, dialling `codes`.
    struct Office(FeatureCodes);

    fn usual() -> Office {
        Office(FeatureCodes::default())
    }

    impl Directory for Office {
        fn blocked(&self, caller: &str) -> Option<(String, bool)> {
            (caller == "666").then(|| ("on the block list".into(), true))
        }
        fn queue(&self, number: &str) -> Option<QueueId> {
            (number == "600").then_some(QueueId(0))
        }
        fn scenario(&self, number: &str) -> Option<Arc<Scenario>> {
            (number == "700").then(|| {
                Arc::new(Scenario {
                    name: "main".into(),
                    start: "start".into(),
                    blocks: Default::default(),
                })
            })
        }
        fn scenario_named(&self, name: &str) -> Option<Arc<Scenario>> {
            ["main", "after-hours"].contains(&name).then(|| {
                Arc::new(Scenario {
                    name: name.into(),
                    start: "start".into(),
                    blocks: Default::default(),
                })
            })
        }
        fn is_mailbox(&self, number: &str) -> bool {
            ["101", "102", "600"].contains(&number)
        }
        fn is_extension(&self, number: &str) -> bool {
            ["101", "102", "0601000000"].contains(&number)
        }
        fn is_conference(&self, number: &str) -> bool {
            number == "800"
        }
        fn emergency(&self, dialled: &str) -> Option<Dial> {
            (dialled == "112").then(|| dial("emergency"))
        }
        fn outbound(&self, dialled: &str) -> Option<Dial> {
            dialled.starts_with('0').then(|| dial("national"))
        }
        fn codes(&self) -> &FeatureCodes {
            &self.0
        }
    }

    fn dial(route: &str) -> Dial {
        Dial {
            number: "n".into(),
            class: crate::outbound::CallClass::National,
            route: route.into(),
            trunks: Vec::new(),
            caller_id: None,
        }
    }

    fn described(route: Route) -> String {
        match route {
            Route::Blocked { tell, .. } => format!("blocked tell={tell}"),
            Route::Queue(q) => format!("queue {}", q.0),
            Route::FeatureCode(code) => format!("{code:?}"),
            Route::Scenario(s) => format!("scenario {}", s.name),
            Route::Mailbox(b) => format!("mailbox {b}"),
            Route::LeaveMessage(b) => format!("message for {b}"),
            Route::Pickup(e) => format!("pickup {e:?}"),
            Route::Park => "park".into(),
            Route::Retrieve(slot) => format!("retrieve {slot}"),
            Route::Conference(room) => format!("conference {room}"),
            Route::Supervise { extension, how } => format!("{how:?} {extension}"),
            Route::Extension => "extension".into(),
            Route::Nowhere => "nowhere".into(),
            Route::Out(dial) => format!("out {}", dial.route),
        }
    }

    fn kind(dialled: &str, caller: &str) -> String {
        described(route(dialled, caller, &usual()))
    }

    #[test]
    fn each_kind_of_number_reaches_its_feature() {
        assert_eq!(kind("600", "101"), "queue 0");
        assert_eq!(kind("*45", "101"), "LogInOut");
        assert_eq!(kind("700", "101"), "scenario main");
        assert_eq!(kind("*97", "101"), "mailbox 101");
        assert_eq!(kind("*97600", "101"), "mailbox 600");
        assert_eq!(kind("*102", "101"), "message for 102");
        assert_eq!(kind("*8", "101"), "pickup None");
        assert_eq!(kind("**102", "101"), "pickup Some(\"102\")");
        assert_eq!(kind("**999", "101"), "extension");
        assert_eq!(kind("*70", "101"), "park");
        assert_eq!(kind("*71", "101"), "retrieve *71");
        assert_eq!(kind("*600", "101"), "message for 600");
        assert_eq!(kind("102", "101"), "extension");
    }

    #[test]
    fn codes_the_office_set_replace_the_usual_ones() {
        let office = Office(FeatureCodes {
            pickup: "#8".into(),
            park: "500".into(),
            listen: "#90".into(),
            ..FeatureCodes::default()
        });
        let kind = |dialled: &str| described(route(dialled, "101", &office));
        assert_eq!(kind("#8"), "pickup None");
        assert_eq!(kind("500"), "park");
        assert_eq!(kind("503"), "retrieve 503");
        assert_eq!(kind("#90101"), "Listen 101");
        assert_eq!(
            kind("*8"),
            "extension",
            "the usual code is just a number now"
        );
        assert_eq!(kind("*70"), "extension");
    }

    #[test]
    fn a_blocked_caller_reaches_nothing_and_unknown_boxes_are_just_numbers() {
        for dialled in ["600", "*45", "700", "*97", "102"] {
            assert_eq!(kind(dialled, "666"), "blocked tell=true", "{dialled}");
        }
        assert_eq!(kind("*97999", "101"), "extension");
        assert_eq!(kind("*999", "101"), "extension");
    }

    #[test]
    fn numbers_the_office_does_not_have_go_out_and_emergency_numbers_always() {
        assert_eq!(kind("0221234567", "101"), "out national");
        assert_eq!(
            kind("0601000000", "101"),
            "extension",
            "an extension comes first"
        );
        assert_eq!(
            kind("555", "101"),
            "extension",
            "no route: an unknown number"
        );
        assert_eq!(kind("112", "101"), "out emergency");
        assert_eq!(kind("112", "666"), "blocked tell=true");
        // From a trunk: never out again.
        assert_eq!(
            described(route_in("0221234567", "+48601000000", None, &usual())),
            "nowhere"
        );
        assert_eq!(
            described(route_in("112", "+48601000000", None, &usual())),
            "nowhere"
        );
    }

    #[test]
    fn a_call_from_a_trunk_reaches_the_office_numbers_scenarios_only() {
        let from_trunk = |dialled: &str, unknown: Option<&str>| {
            described(route_in(dialled, "+48601000000", unknown, &usual()))
        };
        assert_eq!(from_trunk("700", None), "scenario main");
        for own in ["600", "*45", "*97", "101"] {
            assert_eq!(from_trunk(own, None), "nowhere", "{own}");
            assert_eq!(
                from_trunk(own, Some("after-hours")),
                "scenario after-hours",
                "{own}"
            );
        }
        assert_eq!(from_trunk("700", Some("gone")), "scenario main");
        assert_eq!(from_trunk("555", Some("gone")), "nowhere");
        assert_eq!(
            described(route_in("700", "666", None, &usual())),
            "blocked tell=true"
        );
    }
}
