//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::api;
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "recert API", description = "Certification management: programs, learners, groups, awards, earning (completions, xAPI connections, external training, group awards, backfill), accounts."),
    paths(
        api::health::healthz, api::health::readyz, api::organizations::list,
        api::programs::list, api::programs::create, api::programs::show, api::programs::update, api::programs::archive,
        api::learners::list, api::learners::create, api::learners::show, api::learners::update,
        api::groups::list, api::groups::create, api::groups::show, api::groups::members, api::groups::add_members,
        api::groups::remove_member, api::groups::add_requirement, api::groups::remove_requirement, api::groups::requirements,
        api::awards::list, api::awards::create, api::awards::show, api::awards::update, api::awards::revoke,
        api::awards::archive, api::awards::history,
        api::accounts::list_users, api::accounts::create_user,
        api::accounts::disable_user, api::accounts::enable_user, api::accounts::unlock_user, api::accounts::list_tokens,
        api::accounts::create_token, api::accounts::revoke_token,
        api::earning::record, api::earning::list, api::earning::show,
        api::earning::create_connection, api::earning::list_connections, api::earning::revoke_connection,
        api::earning::report, api::earning::reports, api::earning::report_show, api::earning::evidence,
        api::earning::approve, api::earning::reject,
        api::earning::group_award, api::earning::group_awards, api::earning::stop_group_award,
        api::earning::backfill_preview, api::earning::backfill_run,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document as pretty JSON (what `docs/openapi.json` holds).
pub fn json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
