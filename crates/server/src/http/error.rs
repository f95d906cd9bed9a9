//! How the API answers what it cannot do: `{code, field, message}`, with every field
//! problem listed when a change has several, and JSON bodies read strictly (unknown
//! fields refused, the offending field named).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::config::FieldError;

/// What went wrong. `field` names the request field at fault, when one is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    /// Stable, for programs: "invalid", "unauthorized", "not-found"…
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For people.
    pub message: String,
    /// Every field problem, when there are several; the first is also above.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            field: None,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn on(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no such {what}"),
        )
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is stopping",
        )
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("admin API: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the change could not be saved; see the server's log",
        )
    }

    /// A change the configuration's validation refused, every problem listed.
    pub fn invalid(problems: Vec<FieldError>) -> ApiError {
        let errors: Vec<FieldProblem> = problems
            .into_iter()
            .map(|p| FieldProblem {
                field: p.field,
                message: p.message,
            })
            .collect();
        let first = errors.first().cloned().unwrap_or(FieldProblem {
            field: String::new(),
            message: "invalid".into(),
        });
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            field: Some(first.field),
            message: first.message,
            errors,
        }
    }

    /// This error for an API that edits one object, `prefix` in the configuration
    /// ("queues[2]"): the fields under it are named relative to it ("agents[0].tier");
    /// others keep their full path.
    pub fn under(mut self, prefix: &str) -> ApiError {
        let dotted = format!("{prefix}.");
        let relative = |field: &mut String| {
            if let Some(rest) = field.strip_prefix(&dotted) {
                *field = rest.to_string();
            }
        };
        if let Some(field) = &mut self.field {
            relative(field);
        }
        for problem in &mut self.errors {
            relative(&mut problem.field);
        }
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

impl From<switchboard_store::StoreError> for ApiError {
    fn from(e: switchboard_store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(e)
    }
}

/// A JSON body read strictly: a syntax error, a wrong type, a missing or an unknown
/// field is a 422 naming the field (by its path in the body).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not-json",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "unreadable-body", e.body_text()))?;
        let mut reader = serde_json::Deserializer::from_slice(&bytes);
        let invalid =
            |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
        let value = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
            let path = e.path().to_string();
            let error = invalid(e.inner().to_string());
            if path == "." { error } else { error.on(path) }
        })?;
        reader.end().map_err(|e| invalid(e.to_string()))?;
        Ok(ApiJson(value))
    }
}

/// A query string read strictly: a wrong or unknown parameter is a 422 naming it.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                // axum says "Failed to deserialize query string: FIELD: PROBLEM".
                let text = rejection.body_text();
                let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
                let error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail);
                match detail.split_once(": ") {
                    Some((field, message)) if !field.contains(' ') => ApiError {
                        message: message.to_string(),
                        ..error
                    }
                    .on(field),
                    _ => error,
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    async fn read(body: &str) -> Result<ApiJson<Thing>, ApiError> {
        let request = Request::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        ApiJson::<Thing>::from_request(request, &()).await
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Filter {
        limit: Option<u32>,
    }

    #[tokio::test]
    async fn bad_query_parameters_are_named() {
        let read = |uri: &str| {
            let (mut parts, ()) = Request::builder().uri(uri).body(()).unwrap().into_parts();
            async move { ApiQuery::<Filter>::from_request_parts(&mut parts, &()).await }
        };
        assert!(read("/x?limit=5").await.is_ok());
        let e = read("/x?limit=-1").await.unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("limit"))
        );
        let e = read("/x?other=1").await.unwrap_err();
        assert!(e.message.contains("other"), "{}", e.message);
    }

    #[tokio::test]
    async fn bad_bodies_name_the_field() {
        assert!(read(r#"{"name":"a","inner":{"count":1}}"#).await.is_ok());
        let e = read(r#"{"name":"a","inner":{"count":-1}}"#)
            .await
            .unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("inner.count"))
        );
        let e = read(r#"{"name":"a","inner":{"count":1},"extra":2}"#)
            .await
            .unwrap_err();
        assert!(e.message.contains("extra"), "{}", e.message);
        let e = read(r#"{"name":"a"}"#).await.unwrap_err();
        assert!(e.message.contains("inner"), "{}", e.message);
        let e = read(r#"{"name":"a","inner":{"count":1}} trailing"#)
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid");
    }
}
