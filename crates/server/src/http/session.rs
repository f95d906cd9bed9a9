//! Logging in to the admin API. The owner logs in as `admin`; an agent logs in with
//! their extension number and SIP password and sees only their own panel. A login
//! gives a session token, sent back as an HttpOnly cookie (browsers) or as a bearer
//! token (scripts). Cookie sessions must send their CSRF token in `X-CSRF-Token` with
//! every change, so another site cannot make a logged-in browser change anything.
//! Sessions live in memory: a restart logs everyone out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use switchboard_sip::auth::AccountSecrets;
use utoipa::ToSchema;

use super::api::Api;
use super::error::{ApiError, ApiJson};
use super::throttle::LoginThrottle;
use crate::admin_account::{ADMIN_USER, AdminPasswordError, check_admin_password};
use crate::config::Config;

pub const COOKIE: &str = "switchboard_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session unused this long ends.
const IDLE: Duration = Duration::from_secs(8 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The office's owner: everything.
    Admin,
    /// One extension's user: their own panel.
    Agent,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub role: Role,
    /// The agent's extension.
    pub extension: Option<String>,
    csrf: String,
    last_seen: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Session>>,
    pub logins: LoginThrottle,
}

impl Sessions {
    fn open(&self, role: Role, extension: Option<String>, now: Instant) -> (String, Session) {
        let token = random_token();
        let session = Session {
            role,
            extension,
            csrf: random_token(),
            last_seen: now,
        };
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        open.insert(token.clone(), session.clone());
        (token, session)
    }

    fn find(&self, token: &str, now: Instant) -> Option<Session> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let session = open.get_mut(token)?;
        if now.duration_since(session.last_seen) >= IDLE {
            open.remove(token);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    fn close(&self, token: &str) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    /// Ends every admin session but `keep` (after a password change).
    fn close_admin_sessions_but(&self, keep: &str) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|token, s| s.role != Role::Admin || token == keep);
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A logged-in caller of the API, admin or agent.
#[derive(Debug, Clone)]
pub struct Signed {
    pub session: Session,
    token: String,
}

impl Signed {
    /// The agent's extension; the admin login has none.
    pub fn extension(&self) -> Result<String, ApiError> {
        self.session
            .extension
            .clone()
            .ok_or_else(|| ApiError::not_found("extension for this login"))
    }
}

/// A logged-in admin.
#[derive(Debug, Clone)]
pub struct Admin(pub Signed);

/// The session token from a bearer header (true: CSRF does not apply) or the cookie.
fn presented_token(headers: &HeaderMap) -> Option<(String, bool)> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some((bearer.trim().to_string(), true));
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| (value.to_string(), false))
        })
}

fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// The session a request presents, its CSRF token checked when it changes anything
    /// by cookie.
    pub fn signed(&self, method: &Method, headers: &HeaderMap) -> Result<Signed, ApiError> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "log in first (POST /api/session)",
            )
        };
        let (token, bearer) = presented_token(headers).ok_or_else(unauthorized)?;
        let session = self.find(&token, Instant::now()).ok_or_else(unauthorized)?;
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !bearer && !safe {
            let sent = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !same_secret(sent, &session.csrf) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "send the session's csrf_token in the X-CSRF-Token header",
                ));
            }
        }
        Ok(Signed { session, token })
    }
}

impl FromRequestParts<Arc<Api>> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        api.sessions.signed(&parts.method, &parts.headers)
    }
}

impl FromRequestParts<Arc<Api>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        let signed = Signed::from_request_parts(parts, api).await?;
        if signed.session.role != Role::Admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only the admin may do this",
            ));
        }
        Ok(Admin(signed))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// "admin", or an extension number.
    pub username: String,
    /// The admin password, or the extension's SIP password.
    pub password: String,
}

/// The session as its holder sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    pub role: Role,
    /// The agent's extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Send it back in `X-CSRF-Token` with every change made with the cookie.
    pub csrf_token: String,
    /// Given once, at login: the bearer token for scripts (browsers use the cookie).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl SessionInfo {
    fn of(session: &Session, token: Option<String>) -> SessionInfo {
        SessionInfo {
            role: session.role,
            extension: session.extension.clone(),
            csrf_token: session.csrf.clone(),
            token,
        }
    }
}

/// Who the credentials belong to, if anyone (Argon2 and HA1 checks: off the async
/// threads).
fn identify(
    store: &switchboard_store::Store,
    login: &Login,
) -> Result<Option<(Role, Option<String>)>, ApiError> {
    if login.username == ADMIN_USER {
        let ok = check_admin_password(store, ADMIN_USER, &login.password)?;
        return Ok(ok.then_some((Role::Admin, None)));
    }
    let realm = Config::load(store).map_err(ApiError::internal)?.sip.realm;
    let found = store
        .extensions()?
        .into_iter()
        .find(|e| e.number == login.username && e.enabled);
    Ok(found.and_then(|e| {
        let given = AccountSecrets::from_password(&e.number, &realm, &login.password);
        same_secret(&given.ha1_sha256, &e.ha1_sha256).then_some((Role::Agent, Some(e.number)))
    }))
}

#[utoipa::path(post, path = "/api/session", tag = "session",
    request_body = Login,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionInfo),
        (status = 401, description = "Wrong username or password", body = ApiError),
        (status = 429, description = "Too many failed logins on this account from this address: try again after Retry-After seconds", body = ApiError),
    ))]
pub async fn log_in(
    State(api): State<Arc<Api>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    https: Option<axum::Extension<super::Https>>,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let now = Instant::now();
    let account = login.username.clone();
    if let Some(wait) = api.sessions.logins.wait(&account, peer.ip(), now) {
        return Ok(super::throttle::locked_out(wait));
    }
    let Some((role, extension)) = api.with_store(move |store| identify(store, &login)).await?
    else {
        api.sessions.logins.failed(&account, peer.ip(), now);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong username or password",
        ));
    };
    api.sessions.logins.succeeded(&account, peer.ip());
    let (token, session) = api.sessions.open(role, extension, now);
    // Over HTTPS the browser must never send the session over plain HTTP.
    let secure = if https.is_some() { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}");
    let mut response = Json(SessionInfo::of(&session, Some(token))).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/session", tag = "session",
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, description = "Not logged in", body = ApiError),
    ))]
pub async fn current(signed: Signed) -> Json<SessionInfo> {
    Json(SessionInfo::of(&signed.session, None))
}

#[utoipa::path(delete, path = "/api/session", tag = "session",
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
        (status = 401, body = ApiError),
    ))]
pub async fn log_out(State(api): State<Arc<Api>>, signed: Signed) -> Response {
    api.sessions.close(&signed.token);
    let clear = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

#[utoipa::path(put, path = "/api/admin/password", tag = "session",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other admin sessions are logged out"),
        (status = 401, body = ApiError),
        (status = 422, description = "Wrong current password, or a weak new one", body = ApiError),
    ))]
pub async fn change_password(
    State(api): State<Arc<Api>>,
    Admin(signed): Admin,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    api.with_store(move |store| {
        if !check_admin_password(store, ADMIN_USER, &change.current_password)? {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "the current password is wrong",
            )
            .on("current_password"));
        }
        crate::admin_account::set_admin_password(store, &change.new_password).map_err(|e| match e {
            AdminPasswordError::Weak(problem) => ApiError::invalid(vec![problem]),
            AdminPasswordError::Store(e) => e.into(),
        })
    })
    .await?;
    api.sessions.close_admin_sessions_but(&signed.token);
    Ok(StatusCode::NO_CONTENT)
}
