//! recert's HTTP layer: the JSON API under `/api/v1`, health checks, and the OpenAPI
//! document. Handlers never write SQL: they parse, call the service, and shape the answer.

pub mod api;
pub mod client_addr;
pub mod extract;
pub mod idempotency;
pub mod openapi;
mod openapi_rules;
pub mod problem;
pub mod request_id;
pub mod security;
pub mod ui;
pub mod xapi;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use recert_service::Service;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Largest request body accepted (JSON documents are small; imports arrive separately).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Largest upload (an external training report with its evidence file, plus form fields).
pub const UPLOAD_LIMIT: usize = recert_service::external::MAX_EVIDENCE_BYTES + 64 * 1024;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub login_limiter: Arc<ui::session::LoginLimiter>,
    /// Public verification, per address.
    pub verify_limiter: Arc<ui::session::AddressLimiter>,
    /// The reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: Arc<client_addr::TrustedProxies>,
}

impl AppState {
    /// Counts a public verification request from `ip`; refuses one over the address's
    /// allowance for this minute.
    pub fn allow_verification(
        &self,
        ip: std::net::IpAddr,
    ) -> Result<(), recert_service::ServiceError> {
        if self.verify_limiter.allow(ip) {
            Ok(())
        } else {
            Err(recert_service::ServiceError::TooManyRequests(
                "Too many verifications from this address: wait a minute and try again.".into(),
            ))
        }
    }

    /// Cookies are marked Secure whenever recert's public address is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.service.base_url().starts_with("https://")
    }
}

/// What a deployment may tune about how the server answers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Public verifications (`/verify/…`, `/api/v1/verify/…`, share pages) per address per
    /// minute, per instance.
    pub verifications_per_minute: u32,
    /// The reverse proxies in front of recert (setting `trusted_proxies`).
    pub trusted_proxies: client_addr::TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            verifications_per_minute: ui::session::VERIFICATIONS_PER_ADDRESS_PER_MINUTE,
            trusted_proxies: client_addr::TrustedProxies::default(),
        }
    }
}

/// The whole application router.
pub fn router(service: Service) -> Router {
    router_with(service, Limits::default())
}

/// The application router with limits of its own (`recert bench verify_rps` lifts the
/// per-address one: its load comes from one address).
pub fn router_with(service: Service, limits: Limits) -> Router {
    let https = security::Https(service.base_url().starts_with("https://"));
    let state = AppState {
        service: Arc::new(service),
        login_limiter: Arc::default(),
        verify_limiter: Arc::new(ui::session::AddressLimiter::new(
            limits.verifications_per_minute,
        )),
        trusted_proxies: Arc::new(limits.trusted_proxies),
    };
    api::routes()
        .merge(ui::routes())
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        // Outermost: everything below, panics included, runs with the request's id.
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), https),
            around,
        ))
        .with_state(state)
}

/// What every request goes through, in this order: its id and log span; URLs with control
/// characters refused; a panic anywhere below answered as a 500 problem quoting the id;
/// `Idempotency-Key` replays; then the router (behind the trace layer and body limit);
/// and security headers on every answer. One middleware, not four: each of axum's
/// `from_fn` layers boxes the rest of the stack again for every request, and four of them
/// halved the requests a second served (`GET /healthz`: 53k/s, 108k/s without them).
async fn around(
    axum::extract::State((state, https)): axum::extract::State<(AppState, security::Https)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use futures_util::FutureExt;
    request_id::layer(req, |req| async move {
        let inner = async move {
            match extract::refused(&req) {
                Some(refusal) => refusal,
                None => idempotency::layer(&state, req, |req| next.run(req)).await,
            }
        };
        let mut res = std::panic::AssertUnwindSafe(inner)
            .catch_unwind()
            .await
            .unwrap_or_else(problem::panicked);
        security::secure(&mut res, https);
        res
    })
    .await
}

/// Serves until `shutdown` resolves. The caller binds the listener, so tests can use port 0.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, service, Limits::default(), shutdown).await
}

/// [`serve`] with limits of its own.
pub async fn serve_with(
    listener: TcpListener,
    service: Service,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router_with(service, limits).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
