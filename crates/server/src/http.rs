//! The HTTP edge: the admin API (`/api/…`, described by `/api/openapi.json`), the
//! voicemail API, the health endpoint, and the admin panel's web UI for every other
//! path.

mod agent_status;
mod api;
mod bans;
mod calls;
mod collections;
mod error;
mod headers;
mod live;
mod live_calls;
mod mail;
mod me;
mod numbers;
mod prompts;
mod recordings;
mod reports;
mod scenarios;
mod session;
mod settings;
mod throttle;
mod ui;
mod voicemail;
mod webhooks;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::{Json, Router, extract::State};
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use api::Api;
pub use voicemail::VoicemailApi;

use crate::metrics::{Metrics, Snapshot};
use collections::{
    Agents, Conferences, Contacts, Extensions, Inbound, Lists, PickupGroups, Queues, Routes,
    Schedules, Trunks, VoicemailBoxes,
};

/// The largest admin API request body: a big scenario or a few thousand numbers.
const MAX_API_BODY: usize = 512 * 1024;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    #[serde(flatten)]
    sip: Snapshot,
    trunks: Vec<crate::metrics::TrunkBoard>,
}

/// The admin API's routes and their OpenAPI description, built together.
fn admin_api() -> OpenApiRouter<Arc<Api>> {
    let mut router = OpenApiRouter::with_openapi(base_document())
        .routes(routes!(session::log_in, session::current, session::log_out))
        .routes(routes!(session::change_password))
        .routes(routes!(me::panel))
        .routes(routes!(agent_status::set_mine))
        .routes(routes!(agent_status::set))
        .routes(routes!(settings::get_settings, settings::put_settings))
        .routes(routes!(settings::get_config, settings::put_config))
        .routes(routes!(scenarios::list, scenarios::create))
        .routes(routes!(
            scenarios::get_draft,
            scenarios::save_draft,
            scenarios::delete
        ))
        .routes(routes!(scenarios::publish))
        .routes(routes!(calls::list))
        .routes(routes!(calls::export))
        .routes(routes!(calls::queue_events))
        .routes(routes!(recordings::get_recording))
        .routes(routes!(recordings::accesses))
        .routes(routes!(reports::get_report))
        .routes(routes!(reports::export_report))
        .routes(routes!(reports::get_agent_report))
        .routes(routes!(reports::export_agent_report))
        .routes(routes!(bans::list))
        .routes(routes!(mail::list))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(numbers::check))
        .routes(routes!(bans::lift))
        .routes(routes!(live::get_dashboard))
        .routes(routes!(live::live))
        .routes(routes!(live_calls::transfer))
        .routes(routes!(live_calls::supervise))
        .routes(routes!(live_calls::hang_up))
        .routes(routes!(live_calls::transfer_mine))
        .routes(routes!(live_calls::hang_up_mine))
        .routes(routes!(prompts::list));
    let (schemas, paths, prompt) = routes!(prompts::upload, prompts::download, prompts::remove);
    router = router.routes((
        schemas,
        paths,
        prompt.layer(DefaultBodyLimit::max(prompts::MAX_PROMPT_BYTES)),
    ));
    for [base, item] in [
        collections::routes::<Extensions>(),
        collections::routes::<Queues>(),
        collections::routes::<Agents>(),
        collections::routes::<Lists>(),
        collections::routes::<Schedules>(),
        collections::routes::<Inbound>(),
        collections::routes::<Contacts>(),
        collections::routes::<VoicemailBoxes>(),
        collections::routes::<Trunks>(),
        collections::routes::<Routes>(),
        collections::routes::<Conferences>(),
        collections::routes::<PickupGroups>(),
    ] {
        router = router.routes(base).routes(item);
    }
    router
}

fn base_document() -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Switchboard admin API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Log in with POST /api/session. Browsers then send the session cookie \
                     and, with every change, the session's csrf_token in X-CSRF-Token; \
                     scripts send the token as `Authorization: Bearer`. Errors are \
                     {code, field, message}.",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "cookie",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(session::COOKIE))),
    );
    doc
}

/// The admin API's OpenAPI document.
pub fn openapi() -> OpenApi {
    let (_, mut doc) = admin_api().split_for_parts();
    doc.paths.add_path_operation(
        "/api/openapi.json",
        vec![utoipa::openapi::HttpMethod::Get],
        utoipa::openapi::path::OperationBuilder::new()
            .tag("api")
            .summary(Some("This document"))
            .response(
                "200",
                utoipa::openapi::ResponseBuilder::new().description("The OpenAPI document"),
            ),
    );
    document_body_errors(&mut doc);
    webhooks::document(&mut doc);
    // The voicemail API (/voicemail/…, Basic or session login) lives outside /api; the
    // panel plays its messages, so their type is described here too.
    {
        use utoipa::{PartialSchema, ToSchema};
        doc.components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(
                voicemail::MessageView::name().into(),
                voicemail::MessageView::schema(),
            );
    }
    doc.security = Some(vec![
        utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
        utoipa::openapi::security::SecurityRequirement::new("cookie", Vec::<String>::new()),
    ]);
    doc
}

/// Every operation that reads a body also answers 413 (too large), 415 (not JSON) and
/// 422 (a wrong field), and every one with parameters 422: said once here rather than
/// on each.
fn document_body_errors(doc: &mut OpenApi) {
    let error = |why: &str| {
        utoipa::openapi::ResponseBuilder::new()
            .description(why)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ApiError")))
                    .build(),
            )
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.post,
            &mut item.put,
            &mut item.get,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let responses = &mut operation.responses.responses;
            if operation.request_body.is_some() {
                for (status, why) in [
                    ("413", "The body is too large"),
                    ("415", "The body is not JSON"),
                ] {
                    responses
                        .entry(status.into())
                        .or_insert_with(|| error(why).into());
                }
            }
            if operation.request_body.is_some()
                || operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
            {
                responses.entry("422".into()).or_insert_with(|| {
                    error("A field or parameter is wrong; `field` names it").into()
                });
            }
        }
    }
}

/// Marks requests that came over HTTPS: their session cookie is `Secure`.
#[derive(Debug, Clone, Copy)]
pub struct Https;

pub fn router(metrics: Arc<Metrics>, voicemail: Arc<VoicemailApi>, api: Arc<Api>) -> Router {
    let boxes = Router::new()
        .route("/voicemail/{mailbox}/messages", get(voicemail::list))
        .route(
            "/voicemail/{mailbox}/messages/{id}",
            get(voicemail::audio)
                .patch(voicemail::change)
                .delete(voicemail::delete),
        )
        .route(
            "/voicemail/{mailbox}/greeting",
            put(voicemail::put_greeting)
                .delete(voicemail::delete_greeting)
                .layer(DefaultBodyLimit::max(voicemail::MAX_GREETING_BYTES)),
        )
        .with_state(voicemail);
    let document = Arc::new(openapi());
    let (admin, _) = admin_api().split_for_parts();
    let admin = admin
        .route(
            "/api/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document.as_ref().clone()) }
            }),
        )
        .layer(DefaultBodyLimit::max(MAX_API_BODY))
        .with_state(api);
    Router::new()
        .route("/health", get(health))
        .with_state(metrics)
        .merge(boxes)
        .merge(admin)
        .fallback(ui::serve)
        .layer(axum::middleware::from_fn(headers::protect))
}

async fn health(State(metrics): State<Arc<Metrics>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        sip: metrics.snapshot(),
        trunks: metrics.trunk_boards(),
    })
}

#[cfg(test)]
mod tests {
    /// The UI's types are generated from the committed document: it must be what the
    /// server describes now.
    #[test]
    fn the_uis_openapi_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/api/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed.trim_end() == crate::openapi_json(),
            "ui/src/api/openapi.json is stale: run scripts/api-types"
        );
    }
}
