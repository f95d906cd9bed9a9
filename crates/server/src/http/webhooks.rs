//! The webhook deliveries Switchboard made or still tries, for the admin, and the
//! requests a receiver gets, described in the OpenAPI document's `webhooks`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, PathItem, PathsBuilder, Ref, Required, ResponseBuilder,
};

use super::api::Api;
use super::error::ApiError;
use super::session::Admin;
use crate::webhook_events::WebhookPayload;

/// One delivery of an event to a receiver and what became of it (times in unix ms).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryView {
    pub id: i64,
    /// The receiver's URL.
    pub endpoint: String,
    /// The event's type ("call.ended").
    pub event: String,
    /// The `webhook-id` it is sent with.
    pub message_id: String,
    pub created_at: i64,
    pub attempts: u32,
    /// The receiver's answer to the last try, when it answered.
    pub last_status: Option<u16>,
    /// Why the last try failed, while it waits or once given up.
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    /// When Switchboard stopped trying.
    pub given_up_at: Option<i64>,
    /// When it is tried next, while it waits.
    pub next_attempt_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/webhooks/deliveries", tag = "notifications",
    responses(
        (status = 200, description = "The newest 200 webhook deliveries, newest first",
         body = [WebhookDeliveryView]),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
    ))]
pub async fn deliveries(
    State(api): State<Arc<Api>>,
    _: Admin,
) -> Result<Json<Vec<WebhookDeliveryView>>, ApiError> {
    let rows = api.with_store(|store| Ok(store.webhook_log(200)?)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| {
                let pending = d.delivered_at.is_none() && d.given_up_at.is_none();
                WebhookDeliveryView {
                    id: d.id,
                    endpoint: d.delivery.endpoint,
                    event: d.delivery.event,
                    message_id: d.delivery.message_id,
                    created_at: d.created_at,
                    attempts: d.attempts,
                    last_status: d.last_status,
                    last_error: d.last_error,
                    delivered_at: d.delivered_at,
                    given_up_at: d.given_up_at,
                    next_attempt_at: pending.then_some(d.next_attempt_at),
                }
            })
            .collect(),
    ))
}

/// Describes the request every receiver gets: a POST with a [`WebhookPayload`] and the
/// Standard Webhooks headers.
pub fn document(doc: &mut OpenApi) {
    let header = |name: &str, what: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(what))
            .schema(Some(utoipa::openapi::schema::Object::with_type(
                utoipa::openapi::schema::Type::String,
            )))
            .build()
    };
    let operation = OperationBuilder::new()
        .tag("notifications")
        .summary(Some(
            "An event, POSTed to each receiver in the webhook settings",
        ))
        .description(Some(
            "Signed as Standard Webhooks specifies: the receiver computes HMAC-SHA256 over \
             `{webhook-id}.{webhook-timestamp}.{body}` with the secret's bytes (after \
             `whsec_`, base64) and compares it with `webhook-signature` (`v1,` and base64). \
             Any 2xx answer delivers it; anything else, or no answer in 15 s, is tried again \
             after 2 s, 10 s, 1 min, 5 min, 30 min, 2 h, 5 h and 10 h, then given up. A \
             call's events arrive in order; `webhook-id` stays the same on every try.",
        ))
        .parameter(header(
            "webhook-id",
            "The event's id, the same on every try",
        ))
        .parameter(header(
            "webhook-timestamp",
            "When this try was signed (unix seconds)",
        ))
        .parameter(header(
            "webhook-signature",
            "`v1,` and the HMAC-SHA256 in base64",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(WebhookPayload::name())))
                        .build(),
                )
                .required(Some(Required::True))
                .build(),
        ))
        .response(
            "2XX",
            ResponseBuilder::new().description("Delivered").build(),
        );
    doc.webhooks = Some(
        PathsBuilder::new()
            .path("event", PathItem::new(HttpMethod::Post, operation))
            .build(),
    );
    let mut schemas = vec![(
        WebhookPayload::name().to_string(),
        <WebhookPayload as utoipa::PartialSchema>::schema(),
    )];
    <WebhookPayload as ToSchema>::schemas(&mut schemas);
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in schemas {
        components.schemas.entry(name).or_insert(schema);
    }
}
