//! The admin panel's web UI (ui/, built by Vite into ui/dist), served by the server
//! itself: release builds carry it inside the binary, debug builds read ui/dist as it
//! is now. Paths the UI routes itself (/queues/600…) get its index page; unknown
//! API paths get the API's 404.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Built;

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") {
        return super::error::ApiError::not_found("API path").into_response();
    }
    if let Some(file) = Built::get(path).filter(|_| !path.is_empty()) {
        // Vite names assets by their content: they never change under one name.
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_string()),
                (header::CACHE_CONTROL, cache.to_string()),
            ],
            file.data,
        )
            .into_response();
    }
    match Built::get("index.html") {
        Some(index) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            index.data,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The admin panel was not built into this server: run `npm ci && npm run build` \
             in ui/, then build the server again. The API is at /api/.",
        )
            .into_response(),
    }
}
