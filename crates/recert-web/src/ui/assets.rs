//! Static assets embedded in the binary (no CDN: recert works in an air-gapped intranet).
//! Names carry a hash of the content, so they are cached for a year and a new build's
//! stylesheet is fetched at once.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const HTMX: &[u8] = include_bytes!("../../assets/vendor/htmx-2.0.11.min.js");
const CSS: &[u8] = include_bytes!("../../assets/app.css");
const FAVICON: &[u8] = include_bytes!("../../assets/favicon.svg");
const JS: &[u8] = include_bytes!("../../assets/app.js");

/// FNV-1a of the bytes, at compile time: a content fingerprint for asset names.
const fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

static CSS_NAME: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("app-{:016x}.css", fingerprint(CSS)));
static JS_NAME: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("app-{:016x}.js", fingerprint(JS)));
static FAVICON_NAME: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("favicon-{:016x}.svg", fingerprint(FAVICON)));

/// The stylesheet's URL.
pub fn css_path() -> String {
    format!("/assets/{}", *CSS_NAME)
}

/// The script's URL.
pub fn js_path() -> String {
    format!("/assets/{}", *JS_NAME)
}

/// The icon's URL.
pub fn favicon_path() -> String {
    format!("/assets/{}", *FAVICON_NAME)
}

pub const HTMX_PATH: &str = "/assets/htmx-2.0.11.min.js";

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        f if f == CSS_NAME.as_str() => (CSS, "text/css; charset=utf-8"),
        f if f == FAVICON_NAME.as_str() => (FAVICON, "image/svg+xml"),
        f if f == JS_NAME.as_str() => (JS, "text/javascript; charset=utf-8"),
        _ => {
            return super::error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such asset.",
            );
        }
    };
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}
