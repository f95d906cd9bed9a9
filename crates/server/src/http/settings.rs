//! The office-wide settings as one form, and the whole configuration as one document
//! (the JSON twin of `config export` / `config import`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{Api, Edit};
use super::error::{ApiError, ApiJson};
use super::session::Admin;
use crate::config::{
    CallSettings, Config, EmailSettings, NumberSettings, OutboundSettings, RecordingSettings,
    RegistrarSettings, ReportSettings, SecuritySettings, SipSettings, WebhookSettings,
};

/// Every office-wide setting.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub sip: SipSettings,
    pub registrar: RegistrarSettings,
    pub security: SecuritySettings,
    pub calls: CallSettings,
    pub numbers: NumberSettings,
    pub voicemail: VoicemailLimits,
    /// The SMTP server for voicemail to e-mail. Its password is never shown; left out of
    /// a change, the stored one stays.
    #[serde(default)]
    pub email: EmailSettings,
    /// Who may call out what (the toll-fraud guard); the routes are their own list.
    /// Left out of a change, it stays as it is.
    #[serde(default)]
    pub outbound: Option<OutboundSettings>,
    /// What office phones dial for pickup, park, supervision, voicemail and agents'
    /// status. Left out of a change, they stay as they are.
    #[serde(default)]
    pub feature_codes: Option<switchboard_core::FeatureCodes>,
    /// Which calls are recorded and for how long recordings are kept. Left out of a
    /// change, it stays as it is.
    #[serde(default)]
    pub recording: Option<RecordingSettings>,
    /// Reports e-mailed each morning and each week. Left out of a change, they stay as
    /// they are.
    #[serde(default)]
    pub reports: Option<ReportSettings>,
    /// The office's systems told of calls and messages (secrets shown: the receiver
    /// needs them). Left out of a change, they stay as they are.
    #[serde(default)]
    pub webhooks: Option<WebhookSettings>,
}

/// How long voicemail messages may be.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicemailLimits {
    /// The longest message, in seconds (10 to 3600).
    pub max_message_seconds: u32,
    /// A message ends after this many seconds of silence (2 to 60).
    pub silence_seconds: u32,
}

impl Settings {
    fn of(config: Config) -> Settings {
        Settings {
            sip: config.sip,
            registrar: config.registrar,
            security: config.security,
            calls: config.calls,
            numbers: config.numbers,
            voicemail: VoicemailLimits {
                max_message_seconds: config.voicemail.max_message_seconds,
                silence_seconds: config.voicemail.silence_seconds,
            },
            email: config.email.without_password(),
            outbound: Some(config.outbound),
            feature_codes: Some(config.feature_codes),
            recording: Some(config.recording),
            reports: Some(config.reports),
            webhooks: Some(config.webhooks),
        }
    }
}

#[utoipa::path(get, path = "/api/settings", tag = "settings",
    responses((status = 200, body = Settings), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn get_settings(
    State(api): State<Arc<Api>>,
    _: Admin,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(Settings::of(api.config().await?)))
}

#[utoipa::path(put, path = "/api/settings", tag = "settings", request_body = Settings,
    responses(
        (status = 200, description = "Saved and in use", body = Settings),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "A field is wrong; `field` names it", body = ApiError),
    ))]
pub async fn put_settings(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiJson(settings): ApiJson<Settings>,
) -> Result<Json<Settings>, ApiError> {
    let saved = api
        .change_config(move |config| {
            config.sip = settings.sip;
            config.registrar = settings.registrar;
            config.security = settings.security;
            config.calls = settings.calls;
            config.numbers = settings.numbers;
            config.voicemail.max_message_seconds = settings.voicemail.max_message_seconds;
            config.voicemail.silence_seconds = settings.voicemail.silence_seconds;
            let mut email = settings.email;
            email.keep_password(&config.email);
            config.email = email;
            if let Some(outbound) = settings.outbound {
                config.outbound = outbound;
            }
            if let Some(codes) = settings.feature_codes {
                config.feature_codes = codes;
            }
            if let Some(recording) = settings.recording {
                config.recording = recording;
            }
            if let Some(reports) = settings.reports {
                config.reports = reports;
            }
            if let Some(webhooks) = settings.webhooks {
                config.webhooks = webhooks;
            }
            Ok(Edit::whole(()))
        })
        .await;
    saved?;
    Ok(Json(Settings::of(api.config().await?)))
}

#[utoipa::path(get, path = "/api/config", tag = "settings",
    responses(
        (status = 200, description = "The whole configuration, as `config export` writes it (extension passwords as hashes, trunk passwords left out)", body = Config),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
    ))]
pub async fn get_config(State(api): State<Arc<Api>>, _: Admin) -> Result<Json<Config>, ApiError> {
    Ok(Json(api.config().await?.without_secrets()))
}

#[utoipa::path(put, path = "/api/config", tag = "settings", request_body = Config,
    responses(
        (status = 204, description = "Replaced whole, as `config import --replace` does (a trunk given without its password keeps the one stored); the configuration it replaced is backed up first under backups/ in the data directory"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "Every problem, each naming its field; nothing changed", body = ApiError),
    ))]
pub async fn put_config(
    State(api): State<Arc<Api>>,
    _: Admin,
    ApiJson(replacement): ApiJson<Config>,
) -> Result<axum::http::StatusCode, ApiError> {
    api.back_up_config().await?;
    api.change_config(move |config| {
        let mut replacement = replacement;
        replacement.keep_secrets(config);
        *config = replacement;
        Ok(Edit::whole(()))
    })
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
