//! The voicemail API: an extension lists its box's messages, downloads their audio,
//! marks them heard or new, deletes them and replaces the box's greeting. A phone or
//! script logs in with HTTP Basic authentication (its number and its SIP password;
//! repeated failures from one address are refused for a while, like failed SIP
//! logins); the admin panel uses its session: an agent opens their own box, the admin
//! every box (a queue's too).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use switchboard_core::VoicemailMessage;
use switchboard_media::prompt::Prompt;
use tokio::sync::{mpsc, oneshot};

use super::session::{Role, Sessions};
use super::throttle::LoginThrottle;
use crate::engine_api::EngineRequest;
use crate::mailbox_api::{MailboxAction, MailboxError, MailboxRequest, Who};
use crate::voicemail::VoicemailFiles;

/// The largest greeting accepted: several minutes of 16-bit audio.
pub const MAX_GREETING_BYTES: usize = 10 << 20;

pub struct VoicemailApi {
    pub engine: mpsc::Sender<EngineRequest>,
    pub files: VoicemailFiles,
    logins: LoginThrottle,
    /// The admin panel's sessions.
    sessions: Arc<Sessions>,
}

impl VoicemailApi {
    pub fn new(
        engine: mpsc::Sender<EngineRequest>,
        files: VoicemailFiles,
        sessions: Arc<Sessions>,
    ) -> VoicemailApi {
        VoicemailApi {
            engine,
            files,
            logins: LoginThrottle::default(),
            sessions,
        }
    }
}

/// An API error: `{code, field, message}`.
#[derive(Debug, Serialize)]
struct ApiError {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    message: String,
}

fn error(
    status: StatusCode,
    code: &'static str,
    field: Option<&'static str>,
    message: &str,
) -> Response {
    let body = Json(ApiError {
        code,
        field,
        message: message.into(),
    });
    let mut response = (status, body).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Switchboard voicemail\""),
        );
    }
    response
}

/// A message as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = VoicemailMessage)]
pub struct MessageView {
    id: i64,
    caller: String,
    /// Unix milliseconds.
    received_at: i64,
    duration_ms: u64,
    heard: bool,
}

impl From<&VoicemailMessage> for MessageView {
    fn from(m: &VoicemailMessage) -> Self {
        MessageView {
            id: m.id,
            caller: m.caller.clone(),
            received_at: m
                .received
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            duration_ms: m.duration.as_millis() as u64,
            heard: m.heard,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageChange {
    heard: bool,
}

/// The extension and password of a Basic `Authorization` header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Asks the engine, answering login failures and missing messages as errors.
async fn ask(
    api: &VoicemailApi,
    peer: SocketAddr,
    (method, headers): (&Method, &HeaderMap),
    mailbox: String,
    action: MailboxAction,
) -> Result<Vec<VoicemailMessage>, Response> {
    let now = Instant::now();
    let basic = credentials(headers);
    let account = basic.as_ref().map(|(user, _)| user.clone());
    if let Some(wait) = account
        .as_deref()
        .and_then(|a| api.logins.wait(a, peer.ip(), now))
    {
        return Err(super::throttle::locked_out(wait));
    }
    // Basic credentials, else an admin panel session.
    let who = match basic {
        Some((user, password)) => Who::Phone { user, password },
        None => match api.sessions.signed(method, headers) {
            Ok(signed) => match signed.session.role {
                Role::Agent => Who::Agent(signed.session.extension.unwrap_or_default()),
                Role::Admin => Who::Admin,
            },
            Err(e) if e.status == StatusCode::FORBIDDEN => {
                return Err(error(StatusCode::FORBIDDEN, e.code, None, &e.message));
            }
            Err(_) => {
                return Err(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    None,
                    "log in with your extension number and its SIP password",
                ));
            }
        },
    };
    let (reply, answer) = oneshot::channel();
    let request = MailboxRequest {
        who,
        mailbox,
        action,
        reply,
    };
    let unavailable = || {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            None,
            "the server is stopping",
        )
    };
    api.engine
        .send(EngineRequest::Mailbox(request))
        .await
        .map_err(|_| unavailable())?;
    match answer.await.map_err(|_| unavailable())? {
        Ok(messages) => {
            if let Some(account) = &account {
                api.logins.succeeded(account, peer.ip());
            }
            Ok(messages)
        }
        Err(MailboxError::Unauthorized) => {
            api.logins
                .failed(account.as_deref().unwrap_or_default(), peer.ip(), now);
            Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                None,
                "wrong extension or password",
            ))
        }
        Err(MailboxError::Forbidden) => Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            Some("mailbox"),
            "an extension opens its own box only",
        )),
        Err(MailboxError::NoSuchMessage) => Err(error(
            StatusCode::NOT_FOUND,
            "not-found",
            Some("id"),
            "the box has no such message",
        )),
    }
}

type Api = State<Arc<VoicemailApi>>;
type Peer = ConnectInfo<SocketAddr>;

pub async fn list(
    State(api): Api,
    ConnectInfo(peer): Peer,
    method: Method,
    headers: HeaderMap,
    Path(mailbox): Path<String>,
) -> Response {
    match ask(
        &api,
        peer,
        (&method, &headers),
        mailbox,
        MailboxAction::List,
    )
    .await
    {
        Ok(messages) => {
            Json(messages.iter().map(MessageView::from).collect::<Vec<_>>()).into_response()
        }
        Err(e) => e,
    }
}

pub async fn audio(
    State(api): Api,
    ConnectInfo(peer): Peer,
    method: Method,
    headers: HeaderMap,
    Path((mailbox, id)): Path<(String, i64)>,
) -> Response {
    let action = MailboxAction::Open { id };
    if let Err(e) = ask(&api, peer, (&method, &headers), mailbox.clone(), action).await {
        return e;
    }
    let path = api.files.message(&mailbox, id);
    let read = tokio::task::spawn_blocking(move || std::fs::read(path?))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    match read {
        Ok(wav) => ([(header::CONTENT_TYPE, "audio/wav")], wav).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "audio-missing",
            None,
            &format!("the message's audio cannot be read: {e}"),
        ),
    }
}

pub async fn change(
    State(api): Api,
    ConnectInfo(peer): Peer,
    method: Method,
    headers: HeaderMap,
    Path((mailbox, id)): Path<(String, i64)>,
    body: Bytes,
) -> Response {
    let change: MessageChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid",
                Some("heard"),
                &format!("expected {{\"heard\": true or false}}: {e}"),
            );
        }
    };
    let action = MailboxAction::Heard {
        id,
        heard: change.heard,
    };
    match ask(&api, peer, (&method, &headers), mailbox, action).await {
        Ok(m) => Json(m.iter().map(MessageView::from).next()).into_response(),
        Err(e) => e,
    }
}

pub async fn delete(
    State(api): Api,
    ConnectInfo(peer): Peer,
    method: Method,
    headers: HeaderMap,
    Path((mailbox, id)): Path<(String, i64)>,
) -> Response {
    match ask(
        &api,
        peer,
        (&method, &headers),
        mailbox,
        MailboxAction::Delete { id },
    )
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e,
    }
}

/// Whether the login may change `mailbox`'s greeting.
async fn greeting_owner(
    api: &VoicemailApi,
    peer: SocketAddr,
    request: (&Method, &HeaderMap),
    mailbox: &str,
) -> Result<(), Response> {
    let action = MailboxAction::Greeting;
    ask(api, peer, request, mailbox.to_string(), action)
        .await
        .map(drop)
}

/// Replaces the box's greeting with an uploaded audio file (WAV, FLAC, OGG, MP3).
pub async fn put_greeting(
    State(api): Api,
    ConnectInfo(peer): Peer,
    method: Method,
    headers: HeaderMap,
    Path(mailbox): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = greeting_owner(&api, peer, (&method, &headers), &mailbox).await {
        return e;
    }
    if let Err(e) = Prompt::decode(body.to_vec(), 8000) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid",
            Some("greeting"),
            &format!("the greeting is not playable audio: {e}"),
        );
    }
    let files = api.files.clone();
    let saved = tokio::task::spawn_blocking(move || files.save_greeting(&mailbox, &body)).await;
    match saved {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "not-saved",
            None,
            &format!("the greeting could not be saved: {e}"),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "not-saved",
            None,
            &e.to_string(),
        ),
    }
}

/// Goes back to the built-in greeting.
pub async fn delete_greeting(
    State(api): Api,
    ConnectInfo(peer): Peer,
    method: Method,
    headers: HeaderMap,
    Path(mailbox): Path<String>,
) -> Response {
    if let Err(e) = greeting_owner(&api, peer, (&method, &headers), &mailbox).await {
        return e;
    }
    match api
        .files
        .greeting(&mailbox)
        .and_then(|p| crate::files::remove(&p))
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "not-deleted",
            None,
            &e.to_string(),
        ),
    }
}
