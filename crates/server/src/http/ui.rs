//! The admin panel's web UI (ui/, built by Vite into ui/dist), served by the server
//! itself: release builds carry it inside the binary, debug builds read ui/dist as it
//! is now. Paths the UI routes itself (/queues/600…) get its index page; unknown
//! API paths get the API's 404. The build keeps a Brotli and a gzip copy of each large
//! file (ui/compress.mjs), sent as they are to a browser that takes them.

use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Built;

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
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
        let accepted = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let compressed = [("br", "br"), ("gzip", "gz")]
            .into_iter()
            .filter(|(coding, _)| accepts(accepted, coding))
            .find_map(|(coding, suffix)| Some((coding, Built::get(&format!("{path}.{suffix}"))?)));
        let (encoding, data) = match compressed {
            Some((coding, copy)) => (Some(coding), copy.data),
            None => (None, file.data),
        };
        let mut response = (
            [
                (header::CONTENT_TYPE, file.metadata.mimetype().to_string()),
                (header::CACHE_CONTROL, cache.to_string()),
                (header::VARY, "Accept-Encoding".to_string()),
            ],
            data,
        )
            .into_response();
        if let Some(coding) = encoding {
            response.headers_mut().insert(
                header::CONTENT_ENCODING,
                header::HeaderValue::from_static(coding),
            );
        }
        return response;
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

/// Whether an Accept-Encoding value takes `coding` (by name or `*`, and not with q=0).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=1.0, identity; q=0.5", "gzip"));
        assert!(!accepts("gzip;q=1.0, identity; q=0.5", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(accepts("*", "gzip"));
        assert!(!accepts("", "gzip"));
    }
}
