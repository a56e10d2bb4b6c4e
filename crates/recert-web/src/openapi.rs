//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::api;
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "recert API", description = "Certification management: programs, learners, groups, awards, earning (completions, xAPI connections, external training, group awards, backfill), compliance reports, accounts.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")),
    servers((url = "/", description = "This recert instance (the document is served by it)")),
    tags(
        (name = "programs", description = "Certification programs: validity, renewal rules, assigned learning items, backfill."),
        (name = "learners", description = "The people who hold certificates."),
        (name = "groups", description = "Teams, sites, branches, departments and cohorts; their members and the programs they must hold."),
        (name = "awards", description = "Certificates held by learners: award one or many, read with status as of any day, edit, revoke, unassign."),
        (name = "credits", description = "Continuing-education credits: entries toward renewing a certification, their approval, and each cycle's progress."),
        (name = "webhooks", description = "Webhooks: endpoints told of award, credit and sign-off events, signed per Standard Webhooks, with their delivery log."),
        (name = "messages", description = "Message templates: the wording of each email recert sends, for every program or one, with a preview."),
        (name = "signoffs", description = "Supervisor sign-off: a learner asks their manager to confirm a certification; approval renews it."),
        (name = "completions", description = "Completion events from learning systems; each may earn or renew programs."),
        (name = "lms-connections", description = "Credentials a learning system uses on the xAPI endpoint."),
        (name = "external-training", description = "Training done elsewhere, reported with evidence and approved."),
        (name = "group-awards", description = "A program awarded to a group, optionally standing for members who join later."),
        (name = "reports", description = "Compliance per program and group, as of any day: JSON, CSV or XLSX."),
        (name = "accounts", description = "Sign-in accounts and API tokens (administrators)."),
        (name = "organizations", description = "The issuing organizations."),
        (name = "credentials", description = "Signed Open Badges 3.0 credentials and their verification (no account needed to verify)."),
        (name = "imports", description = "CSV imports of certification records and people, run as background jobs with progress and a per-row report."),
        (name = "operations", description = "Liveness and readiness checks; the test clock and the scheduler."),
        (name = "xapi", description = "The xAPI 1.0.3 Learning Record Store (statements and about), reached with an LMS connection's key and secret as HTTP Basic credentials and the X-Experience-API-Version header."),
    ),
    paths(
        api::health::healthz, api::health::readyz, api::clock::test_clock, api::clock::move_test_clock, api::scheduler::scheduler, api::scheduler::run, api::signoffs::list, api::signoffs::request, api::signoffs::approve, api::signoffs::decline, api::credits::log, api::credits::list, api::credits::show, api::credits::evidence, api::credits::approve, api::credits::reject, api::credits::standing, api::programs::reapply_preview, api::programs::reapply, api::webhooks::create, api::webhooks::list, api::webhooks::show, api::webhooks::delete, api::webhooks::deliveries, api::message_templates::list, api::message_templates::show, api::message_templates::put, api::message_templates::reset, api::message_templates::preview, api::message_templates::preview_draft, api::message_templates::program_list, api::message_templates::program_show, api::message_templates::program_put, api::message_templates::program_reset, api::message_templates::program_preview, api::message_templates::program_preview_draft, api::organizations::list,
        api::programs::list, api::programs::create, api::programs::show, api::programs::update, api::programs::archive,
        api::imports::create, api::imports::list, api::imports::show, api::imports::errors, api::imports::report, api::imports::run, api::imports::cancel, api::exports::export, api::exports::audit,
        api::reports::compliance, api::learners::list, api::learners::create, api::learners::show, api::learners::update,
        api::groups::list, api::groups::create, api::groups::show, api::groups::members, api::groups::add_members,
        api::groups::remove_member, api::groups::add_requirement, api::groups::remove_requirement, api::groups::requirements,
        api::programs::add_item, api::programs::remove_item, api::programs::holders, api::award_batches::create,
        api::awards::list, api::awards::create, api::awards::show, api::awards::update, api::awards::revoke,
        api::awards::archive, api::awards::history, api::awards::renew, api::awards::extend_grace,
        api::accounts::list_users, api::accounts::create_user,
        api::accounts::disable_user, api::accounts::enable_user, api::accounts::unlock_user, api::accounts::list_tokens,
        api::accounts::create_token, api::accounts::revoke_token,
        api::earning::record, api::earning::list, api::earning::show,
        api::earning::create_connection, api::earning::list_connections, api::earning::revoke_connection,
        api::earning::report, api::earning::reports, api::earning::report_show, api::earning::evidence,
        api::earning::approve, api::earning::reject,
        api::earning::group_award, api::earning::group_awards, api::earning::stop_group_award,
        api::earning::backfill_preview, api::earning::backfill_run,
        api::credentials::credential, api::credentials::verify, api::credentials::verify_document,
        api::credentials::certificate_pdf, api::credentials::certificate_png,
        api::credentials::put_template, api::credentials::get_template, api::credentials::template_preview,
        api::credentials::put_logo, api::credentials::delete_logo,
        crate::xapi::post_statements, crate::xapi::put_statement, crate::xapi::get_statements,
        crate::xapi::about,
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&BearerAuth, &Conventions),
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
        components.add_security_scheme(
            "lmsBasic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
    }
}

/// What every operation has in common, applied once instead of repeated on 55 handlers:
/// an operationId unique across the document (`{tag}_{handler}`), a description on every
/// response, and the problem answers any request can get — 401 without a valid token,
/// 400/413/415 for a body that is malformed, too large or not JSON, 422 for bad
/// parameters. Health checks need no token.
struct Conventions;

const PUBLIC: [&str; 3] = ["/healthz", "/readyz", "/xapi/about"];

fn problem(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "Done; nothing to answer",
        "400" => "Malformed request (bad JSON or path)",
        "401" => "No valid API token: send 'Authorization: Bearer rct_…'",
        "403" => "The caller's role does not allow this",
        "404" => "Not found",
        "409" => "Conflicts with the current state (duplicate, already done)",
        "413" => "The request body is too large",
        "415" => "The body is not JSON ('Content-Type: application/json')",
        "422" => "The input breaks a rule; every field at fault is named",
        "503" => "Not ready: the database does not answer",
        _ => "See the problem details",
    }
}

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let tag = op
                    .tags
                    .as_ref()
                    .and_then(|t| t.first())
                    .map(|t| t.replace('-', "_"))
                    .unwrap_or_default();
                if let Some(id) = &op.operation_id {
                    op.operation_id = Some(format!("{tag}_{id}"));
                }
                // A one-line doc comment is the summary alone: it is the description too
                // (generated clients and linters read the description).
                if op.description.as_deref().is_none_or(str::is_empty) {
                    op.description = op.summary.clone();
                }
                let responses = &mut op.responses.responses;
                for (status, r) in responses.iter_mut() {
                    if let RefOr::T(r) = r
                        && r.description.is_empty()
                    {
                        r.description = default_description(status).to_owned();
                    }
                }
                let mut add = |status: &str| {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(default_description(status)).into());
                };
                if public {
                    op.security = Some(vec![
                        utoipa::openapi::security::SecurityRequirement::default(),
                    ]);
                } else {
                    add("401");
                }
                if op.request_body.is_some() {
                    // The LRS answers every bad request 400, as xAPI asks.
                    let statuses: &[&str] = if path.starts_with("/xapi/") {
                        &["400", "413"]
                    } else {
                        &["400", "413", "415", "422"]
                    };
                    for status in statuses {
                        add(status);
                    }
                }

                if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                    add("400");
                    if !path.starts_with("/xapi/") {
                        add("422");
                    }
                }
                // The LRS is reached with an LMS connection's credentials, not a token.
                if path.starts_with("/xapi/")
                    && let Some(RefOr::T(r)) = op.responses.responses.get_mut("401")
                {
                    r.description = "No valid LMS credentials: send the connection's key and secret as HTTP Basic".into();
                }
            }
            if path.starts_with("/api/v1/")
                && let Some(op) = &mut item.post
            {
                idempotent(op);
            }
            if path == "/xapi/statements" {
                for op in [&mut item.get, &mut item.post, &mut item.put]
                    .into_iter()
                    .flatten()
                {
                    versioned(op);
                }
            }
        }
    }
}

/// Every LRS request names the xAPI version it speaks.
fn versioned(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let param = ParameterBuilder::new()
        .name("X-Experience-API-Version")
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some("The xAPI version the client speaks: 1.0.x (1.0.3)."))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^1\\.0(\\.[0-9]+)?$")),
        ))
        .build();
    op.parameters
        .get_or_insert_with(Vec::new)
        .push(param.into());
}

/// Every POST takes an `Idempotency-Key` (see `crate::idempotency`).
fn idempotent(op: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::Required;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let param = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Any unique string (a UUID): sending the same request again with the same key \
             within 24 hours answers what the first one was answered (marked \
             `Idempotent-Replayed: true`) instead of doing it twice; the same key with a \
             different request is refused (422), and while the first is still being answered \
             the second gets 409.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(recert_service::idempotency::MAX_KEY_LEN)),
        ))
        .build();
    op.parameters
        .get_or_insert_with(Vec::new)
        .push(param.into());
    for status in ["409", "422"] {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(default_description(status)).into());
    }
}

/// The document: generated from the annotations, then given the request rules of
/// `crate::openapi_rules`; built once.
fn value() -> &'static serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi())
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
        crate::openapi_rules::apply(&mut doc);
        doc
    })
}

/// The document as pretty JSON (what `docs/openapi.json` holds).
pub fn json() -> String {
    serde_json::to_string_pretty(value()).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

pub async fn document() -> Json<&'static serde_json::Value> {
    Json(value())
}
