//! The e-mail Switchboard sent or still tries to send (voicemail to e-mail), for the
//! admin: a send that failed shows its error and when it is tried again.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::api::Api;
use super::error::ApiError;
use super::session::Admin;

/// One e-mail and what became of it (times in unix milliseconds).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailView {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub created_at: i64,
    pub attempts: u32,
    /// When it was accepted by the SMTP server; absent while it waits.
    pub sent_at: Option<i64>,
    /// The last try's error, while it waits.
    pub last_error: Option<String>,
    /// When it is tried next, while it waits.
    pub next_attempt_at: Option<i64>,
}

#[utoipa::path(get, path = "/api/mail", tag = "notifications",
    responses(
        (status = 200, description = "The newest 200 e-mails, newest first", body = [MailView]),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
    ))]
pub async fn list(State(api): State<Arc<Api>>, _: Admin) -> Result<Json<Vec<MailView>>, ApiError> {
    let rows = api.with_store(|store| Ok(store.mail_log(200)?)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| MailView {
                id: m.id,
                recipient: m.mail.recipient,
                subject: m.mail.subject,
                created_at: m.created_at,
                attempts: m.attempts,
                next_attempt_at: m.sent_at.is_none().then_some(m.next_attempt_at),
                sent_at: m.sent_at,
                last_error: m.last_error,
            })
            .collect(),
    ))
}
