//! Security headers on every answer (one layer, so no handler can forget them).
//!
//! Pages get a Content-Security-Policy that allows scripts and styles only from recert
//! itself (htmx and the page script are files under `/assets`, never inline), no framing
//! by other sites, and no caching: every page shows somebody's records. Answers a handler
//! has already given a policy or a cache rule of their own (the message preview, the
//! hashed assets, public verification) keep theirs.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The policy of every HTML page: nothing inline, nothing from elsewhere. Images may be
/// `data:` URLs (the QR code and uploaded logos are embedded that way).
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-src 'self'; frame-ancestors 'none'";

/// The policy of a page that shows an email's HTML in a sandboxed frame: the email carries
/// its own inline styles (mail programs ignore style sheets), which the frame inherits
/// this policy for; scripts stay as strict as everywhere.
pub const PREVIEW_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-src 'self'; frame-ancestors 'none'";

/// A downloaded file (evidence a learner uploaded): whatever it holds, a browser that
/// opens it runs nothing of it with recert's origin.
pub const DOWNLOAD_POLICY: &str = "sandbox; default-src 'none'";

/// A page that previews an email's HTML: the policy that lets the email's styles show.
pub fn previewing(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PREVIEW_POLICY),
    );
    res
}

/// How long browsers are told to use HTTPS only, when recert's address is HTTPS.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Whether the public address is HTTPS (then `Strict-Transport-Security` is sent).
#[derive(Clone, Copy)]
pub struct Https(pub bool);

/// Adds the headers to the answer of every request.
/// Puts the security headers on an answer (those a handler set itself are kept).
pub fn secure(res: &mut Response, https: Https) {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    add(res.headers_mut(), is_html, https.0);
}

fn set_default(h: &mut HeaderMap, name: header::HeaderName, value: &'static str) {
    if !h.contains_key(&name) {
        h.insert(name, HeaderValue::from_static(value));
    }
}

fn add(h: &mut HeaderMap, is_html: bool, https: bool) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set_default(h, header::REFERRER_POLICY, "same-origin");
    if https {
        set_default(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    // Records of people: neither a shared proxy nor the browser's history keeps them,
    // unless the handler said otherwise (assets, public verification).
    set_default(h, header::CACHE_CONTROL, "no-store");
    if is_html {
        set_default(h, header::CONTENT_SECURITY_POLICY, PAGE_POLICY);
        set_default(h, header::X_FRAME_OPTIONS, "DENY");
        set_default(
            h,
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gets_the_strict_policy_and_an_asset_keeps_its_cache_rule() {
        let mut page = HeaderMap::new();
        add(&mut page, true, false);
        let csp = page[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(page[header::CACHE_CONTROL], "no-store");
        assert!(!page.contains_key(header::STRICT_TRANSPORT_SECURITY));

        let mut asset = HeaderMap::new();
        asset.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
        add(&mut asset, false, true);
        assert_eq!(
            asset[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(!asset.contains_key(header::CONTENT_SECURITY_POLICY));
        assert_eq!(asset[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(asset[header::STRICT_TRANSPORT_SECURITY], HSTS);
    }
}
