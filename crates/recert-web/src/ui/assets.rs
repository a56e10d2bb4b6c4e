//! Static assets embedded in the binary (no CDN: recert works in an air-gapped intranet).
//! Names carry a version, so they are cached for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const HTMX: &[u8] = include_bytes!("../../assets/vendor/htmx-2.0.11.min.js");
const CSS: &[u8] = include_bytes!("../../assets/app.css");

/// The stylesheet's URL; its name changes with the crate version so caches refresh.
pub const CSS_PATH: &str = concat!("/assets/app-", env!("CARGO_PKG_VERSION"), ".css");
pub const HTMX_PATH: &str = "/assets/htmx-2.0.11.min.js";

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "htmx-2.0.11.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        f if Some(f) == CSS_PATH.strip_prefix("/assets/") => (CSS, "text/css; charset=utf-8"),
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
