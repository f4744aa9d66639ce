//! The desk page's stylesheet and script, built into the binary (plain CSS and JavaScript, no
//! build step). Both are small and go inside each page, allowed by their digests in the
//! Content-Security-Policy: on a slow network every separate file costs a round trip (two
//! seconds on "Slow 3G") before the page shows, or before its buttons work.

use std::sync::LazyLock;

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub const CSS: &str = include_str!("desk.css");
pub const JS: &str = include_str!("desk.js");

/// What a page puts inline.
#[derive(Debug, Clone, Serialize)]
pub struct Inline {
    pub style: &'static str,
    pub script: &'static str,
}

pub fn inline() -> Inline {
    Inline { style: CSS, script: JS }
}

fn source(text: &str) -> String {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
}

static SOURCES: LazyLock<(String, String)> = LazyLock::new(|| (source(CSS), source(JS)));

/// The stylesheet's digest as a Content-Security-Policy source: `'sha256-…'`.
pub fn style_source() -> &'static str {
    &SOURCES.0
}

/// The script's digest as a Content-Security-Policy source.
pub fn script_source() -> &'static str {
    &SOURCES.1
}
