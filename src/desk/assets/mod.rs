//! The desk page's stylesheet and script, built into the binary (plain CSS and JavaScript, no
//! build step). Their addresses carry a digest of their content, so a phone may keep them for
//! good and still never runs an old script after an upgrade.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const CSS: &str = include_str!("desk.css");
pub const JS: &str = include_str!("desk.js");

/// The assets' addresses, with their digests.
#[derive(Debug, Clone, Serialize)]
pub struct Urls {
    pub css: String,
    pub js: String,
}

fn short_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

static URLS: LazyLock<Urls> = LazyLock::new(|| Urls {
    css: format!("/assets/desk.{}.css", short_digest(CSS)),
    js: format!("/assets/desk.{}.js", short_digest(JS)),
});

pub fn urls() -> Urls {
    URLS.clone()
}

/// `GET /assets/{name}`: an asset by its current address; anything else is not found.
pub async fn serve(Path(name): Path<String>) -> Response {
    let path = format!("/assets/{name}");
    let (body, kind) = if path == URLS.css {
        (CSS, "text/css; charset=utf-8")
    } else if path == URLS.js {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    r
}
