//! One webhook request: an HTTP/1.1 POST over TCP, or over TLS (rustls with the Mozilla
//! roots) for `https://` endpoints, with a deadline. Answers the status the endpoint gave.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;

/// How long one attempt may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Posts `body` to `url` with `headers`; the status answered, or why none came.
pub async fn post(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<u16, String> {
    tokio::time::timeout(TIMEOUT, attempt(url, headers, body))
        .await
        .map_err(|_| format!("no answer within {} seconds", TIMEOUT.as_secs()))?
}

async fn attempt(url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Result<u16, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("the URL must start with http:// or https://".into()),
    };
    let host = uri.host().ok_or("the URL has no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot connect to {authority}: {e}"))?;
    let mut req = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "recert-webhooks");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    if https {
        let config = tls_config()?;
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(
            host.trim_matches(['[', ']']).to_owned(),
        )
        .map_err(|e| format!("TLS: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        send(TokioIo::new(tls), req).await
    } else {
        send(TokioIo::new(tcp), req).await
    }
}

/// The TLS settings every https delivery shares: built once (the root store holds about
/// 150 certificates), not per message.
fn tls_config() -> Result<Arc<tokio_rustls::rustls::ClientConfig>, String> {
    static CONFIG: std::sync::OnceLock<Result<Arc<tokio_rustls::rustls::ClientConfig>, String>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            // ring: the provider lettre already brings in; the other needs a C toolchain
            // build (aws-lc) for post-quantum key exchange webhooks do not need.
            #[allow(deprecated)]
            let provider = tokio_rustls::rustls::crypto::ring::default_provider();
            let mut roots = tokio_rustls::rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(provider))
                .with_safe_default_protocol_versions()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
                .map_err(|e| format!("TLS: {e}"))
        })
        .clone()
}

async fn send<T>(io: T, req: hyper::Request<Full<Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(conn);
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| format!("HTTP: {e}"));
    driver.abort();
    Ok(res?.status().as_u16())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tls_settings_build_once_with_the_mozilla_roots() {
        let a = super::tls_config().expect("TLS settings");
        let b = super::tls_config().expect("TLS settings");
        assert!(std::sync::Arc::ptr_eq(&a, &b), "built once");
    }

    #[tokio::test]
    async fn a_refused_https_connection_says_so() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let e = super::post(&format!("https://127.0.0.1:{port}/x"), &[], Vec::new())
            .await
            .expect_err("nothing listens");
        assert!(e.contains("cannot connect"), "{e}");
    }
}
