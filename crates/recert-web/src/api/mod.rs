//! The JSON API (SPEC §7): one module per resource, handlers named `list`, `show`,
//! `create`, `update`, `revoke`…, so the router reads `awards::create`.

pub mod accounts;
pub mod award_batches;
pub mod awards;
pub mod clock;
pub mod credentials;
pub mod credits;
pub mod earning;
pub mod exports;
pub mod groups;
pub mod health;
pub mod imports;
pub mod learners;
pub mod message_templates;
pub mod organizations;
pub mod programs;
pub mod reports;
pub mod scheduler;
pub mod signoffs;
pub mod webhooks;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, delete, get, post};

/// The page a collection request asks for. (Each list's parameters carry `limit` and
/// `cursor` themselves: serde's `flatten` loses number types in query strings.)
pub fn page(
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<recert_service::page::PageRequest, recert_service::ServiceError> {
    recert_service::page::PageRequest::parse(cursor, limit)
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .route("/api/v1/organizations", get(organizations::list))
        .route(
            "/api/v1/test-clock",
            get(clock::test_clock).put(clock::move_test_clock),
        )
        .route(
            "/api/v1/imports",
            get(imports::list)
                .post(imports::create)
                // The file streams into the job; the service limits its size.
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/imports/{job}", get(imports::show))
        .route("/api/v1/exports/{what}", get(exports::export))
        .route("/api/v1/audit", get(exports::audit))
        .route("/api/v1/imports/{job}/errors.csv", get(imports::errors))
        .route("/api/v1/imports/{job}/report.csv", get(imports::report))
        .route("/api/v1/imports/{job}/run", post(imports::run))
        .route("/api/v1/imports/{job}/cancel", post(imports::cancel))
        .route("/api/v1/scheduler", get(scheduler::scheduler))
        .route("/api/v1/scheduler/run", post(scheduler::run))
        .route(
            "/api/v1/signoffs",
            get(signoffs::list).post(signoffs::request),
        )
        .route("/api/v1/signoffs/{id}/approve", post(signoffs::approve))
        .route(
            "/api/v1/credits",
            get(credits::list)
                .post(credits::log)
                .layer(DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/api/v1/credits/{id}", get(credits::show))
        .route(
            "/api/v1/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/api/v1/webhooks/{id}",
            get(webhooks::show).delete(webhooks::delete),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            get(webhooks::deliveries),
        )
        .route("/api/v1/credits/{id}/evidence", get(credits::evidence))
        .route("/api/v1/credits/{id}/approve", post(credits::approve))
        .route("/api/v1/credits/{id}/reject", post(credits::reject))
        .route("/api/v1/awards/{id}/credits", get(credits::standing))
        .route("/api/v1/signoffs/{id}/decline", post(signoffs::decline))
        .route(
            "/api/v1/programs",
            get(programs::list).post(programs::create),
        )
        .route(
            "/api/v1/programs/{code}",
            get(programs::show).patch(programs::update),
        )
        .route("/api/v1/programs/{code}/archive", post(programs::archive))
        .route("/api/v1/message-templates", get(message_templates::list))
        .route(
            "/api/v1/message-templates/{event}",
            get(message_templates::show)
                .put(message_templates::put)
                .delete(message_templates::reset),
        )
        .route(
            "/api/v1/message-templates/{event}/preview",
            get(message_templates::preview).post(message_templates::preview_draft),
        )
        .route(
            "/api/v1/programs/{code}/message-templates",
            get(message_templates::program_list),
        )
        .route(
            "/api/v1/programs/{code}/message-templates/{event}",
            get(message_templates::program_show)
                .put(message_templates::program_put)
                .delete(message_templates::program_reset),
        )
        .route(
            "/api/v1/programs/{code}/message-templates/{event}/preview",
            get(message_templates::program_preview).post(message_templates::program_preview_draft),
        )
        .route(
            "/api/v1/programs/{code}/reapply",
            get(programs::reapply_preview).post(programs::reapply),
        )
        .route("/api/v1/programs/{code}/items", post(programs::add_item))
        .route("/api/v1/programs/{code}/holders", get(programs::holders))
        .route(
            "/api/v1/programs/{code}/items/{item}",
            delete(programs::remove_item),
        )
        .route("/api/v1/reports/compliance", get(reports::compliance))
        .route(
            "/api/v1/awards/{id}/credential",
            get(credentials::credential),
        )
        .route(
            "/api/v1/awards/{id}/certificate.pdf",
            get(credentials::certificate_pdf),
        )
        .route(
            "/api/v1/awards/{id}/certificate.png",
            get(credentials::certificate_png),
        )
        .route(
            "/api/v1/programs/{code}/template",
            get(credentials::get_template).put(credentials::put_template),
        )
        .route(
            "/api/v1/programs/{code}/template/preview.png",
            get(credentials::template_preview),
        )
        .route("/api/v1/verify/{id}", get(credentials::verify))
        .route("/api/v1/verify", post(credentials::verify_document))
        .route("/orgs/{code}/did.json", get(credentials::did_document))
        .route("/orgs/{code}/logo", get(credentials::logo))
        .route(
            "/api/v1/organizations/{code}/logo",
            axum::routing::put(credentials::put_logo).delete(credentials::delete_logo),
        )
        .route("/status/{list}", get(credentials::status_list))
        .route("/api/v1/award-batches", post(award_batches::create))
        .route(
            "/api/v1/learners",
            get(learners::list).post(learners::create),
        )
        .route(
            "/api/v1/learners/{username}",
            get(learners::show).patch(learners::update),
        )
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route("/api/v1/groups/{name}", get(groups::show))
        .route(
            "/api/v1/groups/{name}/members",
            get(groups::members).post(groups::add_members),
        )
        .route(
            "/api/v1/groups/{name}/members/{username}",
            delete(groups::remove_member),
        )
        .route(
            "/api/v1/groups/{name}/requirements",
            post(groups::add_requirement),
        )
        .route(
            "/api/v1/groups/{name}/requirements/{program}",
            delete(groups::remove_requirement),
        )
        .route("/api/v1/requirements", get(groups::requirements))
        .route("/api/v1/awards", get(awards::list).post(awards::create))
        .route(
            "/api/v1/awards/{id}",
            get(awards::show).patch(awards::update),
        )
        .route("/api/v1/awards/{id}/revoke", post(awards::revoke))
        .route("/api/v1/awards/{id}/renew", post(awards::renew))
        .route(
            "/api/v1/awards/{id}/extend-grace",
            post(awards::extend_grace),
        )
        .route("/api/v1/awards/{id}/archive", post(awards::archive))
        .route("/api/v1/awards/{id}/history", get(awards::history))
        .route(
            "/api/v1/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route(
            "/api/v1/users/{username}/disable",
            post(accounts::disable_user),
        )
        .route(
            "/api/v1/users/{username}/enable",
            post(accounts::enable_user),
        )
        .route(
            "/api/v1/users/{username}/unlock",
            post(accounts::unlock_user),
        )
        .route(
            "/api/v1/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route("/api/v1/tokens/{id}/revoke", post(accounts::revoke_token))
        .route(
            "/api/v1/completions",
            get(earning::list).post(earning::record),
        )
        .route("/api/v1/completions/{event_id}", get(earning::show))
        .route(
            "/api/v1/lms-connections",
            get(earning::list_connections).post(earning::create_connection),
        )
        .route(
            "/api/v1/lms-connections/{name}/revoke",
            post(earning::revoke_connection),
        )
        .route(
            "/api/v1/external-training",
            get(earning::reports)
                .post(earning::report)
                .layer(DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/api/v1/external-training/{id}", get(earning::report_show))
        .route(
            "/api/v1/external-training/{id}/evidence",
            get(earning::evidence),
        )
        .route(
            "/api/v1/external-training/{id}/approve",
            post(earning::approve),
        )
        .route(
            "/api/v1/external-training/{id}/reject",
            post(earning::reject),
        )
        .route(
            "/api/v1/group-awards",
            get(earning::group_awards).post(earning::group_award),
        )
        .route(
            "/api/v1/group-awards/{id}/stop",
            post(earning::stop_group_award),
        )
        .route(
            "/api/v1/programs/{code}/backfill",
            get(earning::backfill_preview).post(earning::backfill_run),
        )
        .route(
            "/xapi/statements",
            get(crate::xapi::get_statements)
                .post(crate::xapi::post_statements)
                .put(crate::xapi::put_statement),
        )
        .route("/xapi/about", get(crate::xapi::about))
        .route("/xapi/activities/state", any(crate::xapi::not_implemented))
        .route(
            "/xapi/activities/profile",
            any(crate::xapi::not_implemented),
        )
        .route("/xapi/agents/profile", any(crate::xapi::not_implemented))
        .route("/xapi/activities", any(crate::xapi::not_implemented))
        .route("/xapi/agents", any(crate::xapi::not_implemented))
        .route("/xapi/{*rest}", any(crate::xapi::unknown))
}
