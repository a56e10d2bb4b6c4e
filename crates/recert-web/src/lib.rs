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

/// Shared state of every handler: one reference count to take per request (handlers
/// extract it for every request).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
pub struct Shared {
    pub service: Service,
    pub login_limiter: ui::session::LoginLimiter,
    /// Public verification, per address.
    pub verify_limiter: ui::session::AddressLimiter,
    /// The reverse proxies whose forwarding headers name the client.
    pub trusted_proxies: client_addr::TrustedProxies,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
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

/// The whole application.
pub fn router(service: Service) -> App {
    router_with(service, Limits::default())
}

/// The application with limits of its own (`recert bench verify_rps` lifts the
/// per-address one: its load comes from one address).
pub fn router_with(service: Service, limits: Limits) -> App {
    let https = security::Https(service.base_url().starts_with("https://"));
    let state = AppState(Arc::new(Shared {
        service,
        login_limiter: ui::session::LoginLimiter::default(),
        verify_limiter: ui::session::AddressLimiter::new(limits.verifications_per_minute),
        trusted_proxies: limits.trusted_proxies,
    }));
    let router = api::routes()
        .merge(ui::routes())
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());
    App {
        router,
        around: Arc::new((state, https)),
    }
}

/// The router inside what every request goes through, in this order: its id and log span
/// (which also logs the answer's status and time); URLs with control characters refused;
/// a panic anywhere below answered as a 500 problem quoting the id; `Idempotency-Key`
/// replays; then the router; and security headers on every answer.
///
/// A tower service of its own around the router, not `Router::layer`s: axum applies those
/// to every route and clones them for every request, and its `from_fn` middlewares box
/// the rest of the stack again each time. Four of them halved the requests a second served
/// (`GET /healthz`: 53k/s, 108k/s without them, 2-core Intel VM); here a request costs one
/// boxed future and two reference counts.
#[derive(Clone)]
pub struct App {
    router: Router,
    around: Arc<(AppState, security::Https)>,
}

impl tower::Service<axum::extract::Request> for App {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // The router is always ready.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        let app = self.clone();
        Box::pin(async move { Ok(app.answer(req).await) })
    }
}

impl App {
    async fn answer(self, req: axum::extract::Request) -> axum::response::Response {
        use futures_util::FutureExt;
        let Self { router, around } = self;
        let (state, https) = &*around;
        request_id::layer(req, |req| async move {
            let inner = async move {
                match extract::refused(&req) {
                    Some(refusal) => refusal,
                    None => idempotency::layer(state, req, |req| route(router, req)).await,
                }
            };
            let mut res = std::panic::AssertUnwindSafe(inner)
                .catch_unwind()
                .await
                .unwrap_or_else(problem::panicked);
            security::secure(&mut res, *https);
            res
        })
        .await
    }
}

async fn route(mut router: Router, req: axum::extract::Request) -> axum::response::Response {
    use tower::Service;
    match router.call(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
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
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(router_with(service, limits)),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use recert_testkit::{Backend, TestApp};
    use tower::ServiceExt;

    async fn boom() -> StatusCode {
        panic!("boom")
    }

    /// A handler that panics is answered as the 500 problem quoting the request's id, with
    /// the security headers on, and the Idempotency-Key it came with is released: the retry
    /// runs again instead of hearing that the first is still being answered.
    #[tokio::test]
    async fn a_panic_is_a_500_problem_and_frees_its_idempotency_key() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            let Some(test) = TestApp::spawn(backend).await else {
                continue;
            };
            let mut app = router(test.service.clone());
            app.router = Router::new()
                .route("/api/v1/boom", axum::routing::post(boom))
                .merge(app.router);
            for _ in 0..2 {
                let req = Request::post("/api/v1/boom")
                    .header("authorization", format!("Bearer {}", test.token))
                    .header(idempotency::HEADER, "retry-me")
                    .header(request_id::HEADER, "report-7")
                    .body(Body::empty())
                    .expect("request");
                let res = app.clone().oneshot(req).await.expect("answer");
                assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
                let h = res.headers();
                assert_eq!(h["content-type"], "application/problem+json");
                assert_eq!(h[request_id::HEADER], "report-7");
                assert_eq!(h["x-content-type-options"], "nosniff");
                let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .expect("body");
                let p: serde_json::Value = serde_json::from_slice(&body).expect("problem");
                assert_eq!(p["request_id"], "report-7", "{p}");
                assert!(
                    p["detail"].as_str().is_some_and(|d| d.contains("report-7")),
                    "{p}"
                );
            }
        }
    }
}
