//! The configuration's lists of objects (extensions, queues, agents, number lists,
//! schedules, inbound numbers, contacts, voicemail PINs, trunks, outbound routes,
//! conference rooms, pickup groups) over
//! HTTP, each the same way:
//! `GET|POST /api/{name}`, `GET|PUT|DELETE /api/{name}/{key}`. Every change is checked
//! with the whole configuration and saved in one transaction, so a change that would
//! leave anything inconsistent (a queue naming a deleted extension) is refused whole.
//! One generic implementation serves them all; the OpenAPI paths are built from the
//! same description.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, Paths, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ArrayBuilder, ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema,
};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::UtoipaMethodRouter;

use super::api::{Api, Edit};
use super::error::{ApiError, ApiJson};
use super::session::Admin;
use crate::config::{
    AgentSettings, BoxSettings, ConferenceSettings, Config, ContactSettings, ExtensionConfig,
    InboundNumber, ListSettings, PickupGroupSettings, QueueSettings, RouteSettings, TrunkSettings,
};
use switchboard_scenario::schedule::ScheduleSettings;

/// One list of objects in the configuration, and how the API shows and takes them.
pub trait Collection: Send + Sync + 'static {
    /// The URL segment, which is also the configuration's field.
    const NAME: &'static str;
    /// One of them, for messages: "extension".
    const ONE: &'static str;
    /// The field that names an object in the URL.
    const KEY: &'static str;
    type Stored: Clone + Send + 'static;
    /// What the API reads and writes (secrets write-only).
    type Item: ToSchema + Serialize + DeserializeOwned + Send + 'static;

    fn all(config: &mut Config) -> &mut Vec<Self::Stored>;
    fn key(stored: &Self::Stored) -> &str;
    fn item_key(item: &Self::Item) -> &str;
    fn view(stored: &Self::Stored) -> Self::Item;
    /// The object to store for `item`, keeping what it leaves out (secrets) from
    /// `old`; and the object to answer with.
    fn to_stored(item: Self::Item, old: Option<&Self::Stored>) -> (Self::Stored, Self::Item);
}

/// A collection whose API objects are stored as they are.
macro_rules! plain_collection {
    ($marker:ident, $field:ident, $one:literal, $key:ident, $item:ty) => {
        #[derive(Debug)]
        pub struct $marker;

        impl Collection for $marker {
            const NAME: &'static str = stringify!($field);
            const ONE: &'static str = $one;
            const KEY: &'static str = stringify!($key);
            type Stored = $item;
            type Item = $item;

            fn all(config: &mut Config) -> &mut Vec<$item> {
                &mut config.$field
            }
            fn key(stored: &$item) -> &str {
                &stored.$key
            }
            fn item_key(item: &$item) -> &str {
                &item.$key
            }
            fn view(stored: &$item) -> $item {
                stored.clone()
            }
            fn to_stored(item: $item, _old: Option<&$item>) -> ($item, $item) {
                (item.clone(), item)
            }
        }
    };
}

plain_collection!(Queues, queues, "queue", number, QueueSettings);
plain_collection!(Agents, agents, "agent", extension, AgentSettings);
plain_collection!(Lists, lists, "list", name, ListSettings);
plain_collection!(Schedules, schedules, "schedule", name, ScheduleSettings);
plain_collection!(Inbound, inbound, "inbound number", number, InboundNumber);
plain_collection!(Contacts, contacts, "contact", number, ContactSettings);
plain_collection!(Routes, routes, "route", name, RouteSettings);
plain_collection!(
    PickupGroups,
    pickup_groups,
    "pickup group",
    name,
    PickupGroupSettings
);
plain_collection!(
    Conferences,
    conferences,
    "conference room",
    number,
    ConferenceSettings
);

/// An extension as the API shows it: the password is write-only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// 1 to 15 digits.
    pub number: String,
    #[serde(default)]
    pub name: String,
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// "allow": TLS and SRTP when the phone offers them; "require": its phone
    /// registers and calls over TLS only, with its audio in SRTP.
    #[serde(default)]
    pub encryption: crate::config::EncryptionPolicy,
    /// The SIP password, at least 10 characters. Never shown again, except once: when
    /// an extension is created without one, Switchboard generates it and answers it
    /// here. Left out of a change, the password stays as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

fn enabled() -> bool {
    true
}

#[derive(Debug)]
pub struct Extensions;

impl Collection for Extensions {
    const NAME: &'static str = "extensions";
    const ONE: &'static str = "extension";
    const KEY: &'static str = "number";
    type Stored = ExtensionConfig;
    type Item = Extension;

    fn all(config: &mut Config) -> &mut Vec<ExtensionConfig> {
        &mut config.extensions
    }
    fn key(stored: &ExtensionConfig) -> &str {
        &stored.number
    }
    fn item_key(item: &Extension) -> &str {
        &item.number
    }
    fn view(stored: &ExtensionConfig) -> Extension {
        Extension {
            number: stored.number.clone(),
            name: stored.name.clone(),
            enabled: stored.enabled,
            encryption: stored.encryption,
            password: None,
        }
    }
    fn to_stored(item: Extension, old: Option<&ExtensionConfig>) -> (ExtensionConfig, Extension) {
        let generated = match (&item.password, old) {
            (None, None) => Some(crate::first_run::generate_password()),
            _ => None,
        };
        let password = item.password.clone().or(generated.clone());
        let stored = ExtensionConfig {
            number: item.number.clone(),
            name: item.name.clone(),
            enabled: item.enabled,
            encryption: item.encryption,
            ha1_md5: password
                .is_none()
                .then(|| old.and_then(|o| o.ha1_md5.clone()))
                .flatten(),
            ha1_sha256: password
                .is_none()
                .then(|| old.and_then(|o| o.ha1_sha256.clone()))
                .flatten(),
            password,
        };
        (
            stored,
            Extension {
                password: generated,
                ..item
            },
        )
    }
}

/// The office's providers. The registration's password is write-only: never shown,
/// and kept as it is by a change that leaves it out.
#[derive(Debug)]
pub struct Trunks;

impl Collection for Trunks {
    const NAME: &'static str = "trunks";
    const ONE: &'static str = "trunk";
    const KEY: &'static str = "name";
    type Stored = TrunkSettings;
    type Item = TrunkSettings;

    fn all(config: &mut Config) -> &mut Vec<TrunkSettings> {
        &mut config.trunks
    }
    fn key(stored: &TrunkSettings) -> &str {
        &stored.name
    }
    fn item_key(item: &TrunkSettings) -> &str {
        &item.name
    }
    fn view(stored: &TrunkSettings) -> TrunkSettings {
        stored.without_password()
    }
    fn to_stored(
        item: TrunkSettings,
        old: Option<&TrunkSettings>,
    ) -> (TrunkSettings, TrunkSettings) {
        let mut stored = item;
        stored.keep_password(old);
        let shown = stored.without_password();
        (stored, shown)
    }
}

/// A voicemail box's PIN, which opens it by phone (`*97`). Write-only: the list shows
/// which boxes have one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailBox {
    /// The extension or queue number.
    pub number: String,
    /// 4 to 12 digits. Left out of a change, the PIN stays as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// Where each new message is e-mailed, its recording attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Calls nobody answered are e-mailed to `email` too.
    #[serde(default)]
    pub missed_calls: bool,
}

#[derive(Debug)]
pub struct VoicemailBoxes;

impl Collection for VoicemailBoxes {
    const NAME: &'static str = "voicemail-boxes";
    const ONE: &'static str = "voicemail box";
    const KEY: &'static str = "number";
    type Stored = BoxSettings;
    type Item = VoicemailBox;

    fn all(config: &mut Config) -> &mut Vec<BoxSettings> {
        &mut config.voicemail.boxes
    }
    fn key(stored: &BoxSettings) -> &str {
        &stored.number
    }
    fn item_key(item: &VoicemailBox) -> &str {
        &item.number
    }
    fn view(stored: &BoxSettings) -> VoicemailBox {
        VoicemailBox {
            number: stored.number.clone(),
            pin: None,
            email: stored.email.clone(),
            missed_calls: stored.missed_calls,
        }
    }
    fn to_stored(item: VoicemailBox, old: Option<&BoxSettings>) -> (BoxSettings, VoicemailBox) {
        let stored = BoxSettings {
            number: item.number.clone(),
            pin_hash: item
                .pin
                .is_none()
                .then(|| old.and_then(|o| o.pin_hash.clone()))
                .flatten(),
            pin: item.pin,
            email: item.email.clone(),
            missed_calls: item.missed_calls,
        };
        (stored, VoicemailBox { pin: None, ..item })
    }
}

/// Where `C`'s objects live in the configuration's field paths.
fn at<C: Collection>(index: usize) -> String {
    // The configuration's own field names ("voicemail.boxes"), as validation names them.
    let field = match C::NAME {
        "voicemail-boxes" => "voicemail.boxes",
        name => name,
    };
    format!("{field}[{index}]")
}

async fn list<C: Collection>(
    State(api): State<Arc<Api>>,
    _: Admin,
) -> Result<Json<Vec<C::Item>>, ApiError> {
    let mut config = api.config().await?;
    Ok(Json(C::all(&mut config).iter().map(C::view).collect()))
}

async fn one<C: Collection>(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(key): Path<String>,
) -> Result<Json<C::Item>, ApiError> {
    let mut config = api.config().await?;
    C::all(&mut config)
        .iter()
        .find(|s| C::key(s) == key)
        .map(|s| Json(C::view(s)))
        .ok_or_else(|| ApiError::not_found(C::ONE))
}

async fn create<C: Collection>(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiJson(item): ApiJson<C::Item>,
) -> Result<(StatusCode, Json<C::Item>), ApiError> {
    let answer = api
        .change_config(move |config| {
            let all = C::all(config);
            if all.iter().any(|s| C::key(s) == C::item_key(&item)) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "exists",
                    format!("there is a {} {:?} already", C::ONE, C::item_key(&item)),
                )
                .on(C::KEY));
            }
            let (stored, answer) = C::to_stored(item, None);
            all.push(stored);
            Ok(Edit::at(answer, at::<C>(all.len() - 1)))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn replace<C: Collection>(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(key): Path<String>,
    ApiJson(item): ApiJson<C::Item>,
) -> Result<Json<C::Item>, ApiError> {
    if C::item_key(&item) != key {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("must be {key:?}, as in the address; to rename, create a new {} and delete this one", C::ONE),
        )
        .on(C::KEY));
    }
    let answer = api
        .change_config(move |config| {
            let all = C::all(config);
            let index = all
                .iter()
                .position(|s| C::key(s) == key)
                .ok_or_else(|| ApiError::not_found(C::ONE))?;
            let (stored, answer) = C::to_stored(item, Some(&all[index]));
            all[index] = stored;
            Ok(Edit::at(answer, at::<C>(index)))
        })
        .await?;
    Ok(Json(answer))
}

async fn remove<C: Collection>(
    State(api): State<Arc<Api>>,
    _: Admin,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    api.change_config(move |config| {
        let all = C::all(config);
        let index = all
            .iter()
            .position(|s| C::key(s) == key)
            .ok_or_else(|| ApiError::not_found(C::ONE))?;
        all.remove(index);
        Ok(Edit::whole(()))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `C`'s routes with their OpenAPI description.
pub fn routes<C: Collection>() -> [UtoipaMethodRouter<Arc<Api>>; 2] {
    let base = format!("/api/{}", C::NAME);
    let item = format!("{base}/{{{}}}", C::KEY);
    let (schemas, paths) = openapi::<C>(&base, &item);
    let (item_paths, base_paths): (Vec<_>, Vec<_>) =
        paths.paths.into_iter().partition(|(p, _)| *p == item);
    let wrap = |entries: Vec<(String, PathItem)>| {
        entries
            .into_iter()
            .fold(PathsBuilder::new(), |b, (p, i)| b.path(p, i))
            .build()
    };
    [
        (schemas, wrap(base_paths), get(list::<C>).post(create::<C>)),
        (
            Vec::new(),
            wrap(item_paths),
            get(one::<C>).put(replace::<C>).delete(remove::<C>),
        ),
    ]
}

type Schemas = Vec<(String, RefOr<Schema>)>;

fn openapi<C: Collection>(base: &str, item: &str) -> (Schemas, Paths) {
    let name = C::Item::name().to_string();
    let mut schemas = vec![(name.clone(), C::Item::schema())];
    C::Item::schemas(&mut schemas);
    schemas.push((ApiError::name().to_string(), ApiError::schema()));
    ApiError::schemas(&mut schemas);
    let item_ref = || Ref::from_schema_name(name.clone());
    let json = |schema: RefOr<Schema>| ContentBuilder::new().schema(Some(schema)).build();
    let error = |why: &str| {
        ResponseBuilder::new()
            .description(why)
            .content(
                "application/json",
                json(Ref::from_schema_name("ApiError").into()),
            )
            .build()
    };
    let body = || {
        RequestBodyBuilder::new()
            .required(Some(Required::True))
            .content("application/json", json(item_ref().into()))
            .build()
    };
    let one = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content("application/json", json(item_ref().into()))
            .build()
    };
    let key = || {
        ParameterBuilder::new()
            .name(C::KEY)
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .schema(Some(String::schema()))
            .build()
    };
    let operation = |id: String, summary: String| {
        OperationBuilder::new()
            .tag(C::NAME)
            .operation_id(Some(id))
            .summary(Some(summary))
            .response("401", error("Not logged in"))
            .response("403", error("Not the admin, or no CSRF token"))
    };
    let id = C::NAME.replace('-', "_");
    let array = ArrayBuilder::new().items(item_ref()).build();
    let list = operation(format!("list_{id}"), format!("Every {}", C::ONE)).response(
        "200",
        ResponseBuilder::new()
            .description("Every one, in the configuration's order")
            .content("application/json", json(array.into()))
            .build(),
    );
    let create = operation(format!("create_{id}"), format!("Add a {}", C::ONE))
        .request_body(Some(body()))
        .response("201", one("Added"))
        .response("409", error("One with this key exists"))
        .response("422", error("A field is wrong; `field` names it"));
    let get = operation(format!("get_{id}"), format!("One {}", C::ONE))
        .parameter(key())
        .response("200", one("Found"))
        .response("404", error("No such one"));
    let put = operation(format!("replace_{id}"), format!("Change a {}", C::ONE))
        .parameter(key())
        .request_body(Some(body()))
        .response("200", one("Changed"))
        .response("404", error("No such one"))
        .response("422", error("A field is wrong; `field` names it"));
    let delete = operation(format!("delete_{id}"), format!("Remove a {}", C::ONE))
        .parameter(key())
        .response("204", ResponseBuilder::new().description("Removed").build())
        .response("404", error("No such one"))
        .response(
            "422",
            error("Something else still refers to it; `field` names it"),
        );
    let paths = PathsBuilder::new()
        .path(
            base,
            PathItem::new(HttpMethod::Get, list).tap_merge(PathItem::new(HttpMethod::Post, create)),
        )
        .path(
            item,
            PathItem::new(HttpMethod::Get, get)
                .tap_merge(PathItem::new(HttpMethod::Put, put))
                .tap_merge(PathItem::new(HttpMethod::Delete, delete)),
        )
        .build();
    (schemas, paths)
}

/// `PathItem::merge_operations` in builder style.
trait TapMerge {
    fn tap_merge(self, other: PathItem) -> PathItem;
}

impl TapMerge for PathItem {
    fn tap_merge(mut self, other: PathItem) -> PathItem {
        self.merge_operations(other);
        self
    }
}
