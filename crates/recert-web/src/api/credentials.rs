//! Credentials and verification: an award's signed credential, the issuers' DID
//! documents, revocation status lists, and verification by ID or of a document. Everything
//! but the credential itself answers without an account.

use crate::AppState;
use crate::client_addr::ClientIp;
use crate::extract::{ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use recert_service::ServiceError;
use recert_service::credentials::{Document, TemplateStored, VerifyReport, VerifyView};
use recert_service::logos::LogoStored;
use serde_json::Value;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CredentialParams {
    /// The cryptosuite of the proof: `eddsa-rdfc-2022` (the default: RDF canonicalization,
    /// what most Open Badges 3.0 verifiers expect) or `eddsa-jcs-2022` (JSON
    /// canonicalization, faster).
    pub suite: Option<String>,
}

/// The problem (415) with a body whose `Content-Type` is none of `accepted`, naming what to
/// send; `None` when it is one of them.
fn wrong_content_type(headers: &HeaderMap, accepted: &[&str], what: &str) -> Option<Problem> {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    (!accepted.iter().any(|a| kind.starts_with(a))).then(|| {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!("send {what} as Content-Type: {}", accepted.join(" or ")),
        )
    })
}

/// A signed credential as a file to download (`certificate-{id}.json`), for the pages.
pub fn credential_file(doc: &Value, id: &str) -> Response {
    let name =
        super::reports::content_disposition("attachment", &format!("certificate-{id}"), "json");
    (
        [
            (header::CONTENT_TYPE, "application/vc+ld+json".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        doc.to_string(),
    )
        .into_response()
}

/// JSON with a content type of its own (`application/vc+ld+json`, `application/did+json`).
fn typed(value: &Value, content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        Json(value),
    )
        .into_response()
}

/// An award as a signed Open Badges 3.0 credential (W3C Verifiable Credential 2.0 with an
/// Ed25519 Data Integrity proof; the issuer is the organization's did:web).
#[utoipa::path(get, path = "/api/v1/awards/{id}/credential", tag = "credentials",
    params(("id" = String, Path, description = "The certificate ID"), CredentialParams),
    responses((status = 200, description = "The signed credential", content_type = "application/vc+ld+json", body = Object),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such award"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Unknown suite or mistyped ID")))]
pub async fn credential(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<CredentialParams>,
) -> ApiResult<Response> {
    let doc = s.service.credential(&who, &id, p.suite.as_deref()).await?;
    Ok(typed(&doc, "application/vc+ld+json"))
}

/// What anyone may know of a certificate by its ID: holder, program, issuer, dates, status
/// today, whether its signature checks, and its chain of renewals. No account needed.
#[utoipa::path(get, path = "/api/v1/verify/{id}", tag = "credentials", security(()),
    params(("id" = String, Path, description = "The certificate ID, hyphens optional")),
    responses((status = 200, body = VerifyView),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No certificate has this ID"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Not a certificate ID (a mistyped check character says so)"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "Too many verifications")))]
pub async fn verify(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    s.allow_verification(client)?;
    let body = s.service.verify_public_json(&id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Checks a credential document (the body): its proof against the key its issuer
/// publishes, the issuer, its dates today and its revocation status. No account needed.
#[utoipa::path(post, path = "/api/v1/verify", tag = "credentials", security(()),
    request_body(content = Object, description = "A credential document", content_type = "application/json"),
    responses((status = 200, body = VerifyReport),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "Not JSON"),
        (status = 429, body = Problem, content_type = "application/problem+json", description = "Too many verifications")))]
pub async fn verify_document(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    crate::extract::ApiJson(doc): crate::extract::ApiJson<Value>,
) -> ApiResult<Json<VerifyReport>> {
    if !doc.is_object() {
        return Err(recert_service::ServiceError::field(
            "document",
            "must be a JSON object: the credential to verify",
        )
        .into());
    }
    s.allow_verification(client)?;
    Ok(Json(s.service.verify_document(&doc).await?))
}

/// An organization's DID document (did:web, path form): the keys it signs with.
pub async fn did_document(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let doc = s.service.did_document(&code).await?;
    Ok(typed(&doc, "application/did+json"))
}

/// A revocation status list (W3C Bitstring Status List), signed; cacheable for a minute
/// and answered `304` when unchanged.
pub async fn status_list(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Response> {
    let doc = s.service.status_list(&name).await?;
    let tag = {
        use sha2::Digest;
        let bits = doc["credentialSubject"]["encodedList"]
            .as_str()
            .unwrap_or("");
        let sum = sha2::Sha256::digest(format!("{}|{bits}", doc["validFrom"]).as_bytes());
        format!(
            "\"{}\"",
            sum.iter()
                .take(12)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    };
    let cache = [
        (header::ETAG, tag.clone()),
        (header::CACHE_CONTROL, "public, max-age=60".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((cache, typed(&doc, "application/vc+ld+json")).into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PngParams {
    /// 1 (842 × 595 pixels, the default) or 2.
    pub scale: Option<String>,
}

/// A certificate document as a response (a file with its name).
pub fn document(bytes: Vec<u8>, doc: Document, id: &str) -> Response {
    let name = super::reports::content_disposition(
        "inline",
        &format!("certificate-{id}"),
        doc.extension(),
    );
    (
        [
            (header::CONTENT_TYPE, doc.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// An award's certificate as a PDF (fonts embedded, text selectable) with a QR code of its
/// verification link.
#[utoipa::path(get, path = "/api/v1/awards/{id}/certificate.pdf", tag = "credentials",
    params(("id" = String, Path, description = "The certificate ID")),
    responses((status = 200, description = "The certificate", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such award")))]
pub async fn certificate_pdf(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let bytes = s.service.certificate(&who, &id, Document::Pdf).await?;
    Ok(document(bytes, Document::Pdf, &id))
}

/// An award's certificate as a PNG image (`?scale=2` for twice the pixels).
#[utoipa::path(get, path = "/api/v1/awards/{id}/certificate.png", tag = "credentials",
    params(("id" = String, Path, description = "The certificate ID"), PngParams),
    responses((status = 200, description = "The certificate", content_type = "image/png", body = Vec<u8>),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such award"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "A scale other than 1 or 2")))]
pub async fn certificate_png(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<PngParams>,
) -> ApiResult<Response> {
    let doc = Document::png(p.scale.as_deref())?;
    let bytes = s.service.certificate(&who, &id, doc).await?;
    Ok(document(bytes, doc, &id))
}

/// Stores a program's certificate template: an SVG (`Content-Type: image/svg+xml`) with
/// `{{ field }}` placeholders (organization, learner_name, program_name, program_code,
/// issued_on, expires_on, certificate_id, verify_url, qr, logo; place the QR code and the
/// organization's logo with `<svg x=".." y=".." width=".." height="..">{{ qr }}</svg>`). It is sanitized: scripts, event
/// handlers, `foreignObject` and external references are removed and listed in the answer;
/// a template too large, too wide or not SVG is refused.
#[utoipa::path(put, path = "/api/v1/programs/{code}/template", tag = "credentials",
    params(("code" = String, Path, description = "The program's code")),
    request_body(content = String, description = "The SVG template", content_type = "image/svg+xml"),
    responses((status = 200, body = TemplateStored),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not SVG"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Refused, with the reason")))]
pub async fn put_template(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<TemplateStored>> {
    if let Some(p) = wrong_content_type(&headers, &["image/svg+xml"], "the template") {
        return Err(p.into());
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ServiceError::field("template", "the template is not UTF-8 text"))?;
    Ok(Json(
        s.service
            .set_certificate_template(&who, &code, text)
            .await?,
    ))
}

/// A program's certificate template (its own, or the default).
#[utoipa::path(get, path = "/api/v1/programs/{code}/template", tag = "credentials",
    params(("code" = String, Path, description = "The program's code")),
    responses((status = 200, description = "The SVG template", content_type = "image/svg+xml", body = String)))]
pub async fn get_template(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let svg = s.service.certificate_template(&who, &code).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// The program's template drawn on sample data.
#[utoipa::path(get, path = "/api/v1/programs/{code}/template/preview.png", tag = "credentials",
    params(("code" = String, Path, description = "The program's code")),
    responses((status = 200, description = "The preview", content_type = "image/png", body = Vec<u8>)))]
pub async fn template_preview(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let png = s.service.template_preview(&who, &code).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Sets an organization's logo, drawn on its certificates and shown on its verification
/// pages: a PNG (`Content-Type: image/png`, at most 2,000 pixels a side) or an SVG
/// (`image/svg+xml`, sanitized like a template: what was removed is listed). At most
/// 512 KB. Administrators only.
#[utoipa::path(put, path = "/api/v1/organizations/{code}/logo", tag = "credentials",
    params(("code" = String, Path, description = "The organization's code")),
    request_body(content = Vec<u8>, description = "The logo", content_type = "image/png"),
    responses((status = 200, body = LogoStored),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Neither PNG nor SVG"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Refused, with the reason")))]
pub async fn put_logo(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<LogoStored>> {
    if let Some(p) = wrong_content_type(&headers, &["image/png", "image/svg+xml"], "the logo") {
        return Err(p.into());
    }
    Ok(Json(s.service.set_logo(&who, &code, &body).await?))
}

/// Removes an organization's logo. Administrators only.
#[utoipa::path(delete, path = "/api/v1/organizations/{code}/logo", tag = "credentials",
    params(("code" = String, Path, description = "The organization's code")),
    responses((status = 204, description = "Removed (or there was none)"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such organization")))]
pub async fn delete_logo(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.service.remove_logo(&who, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An organization's logo, for anyone (its verification pages show it). An SVG is served
/// sandboxed, so even opened on its own nothing in it could run.
pub async fn logo(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let logo = s.service.logo(&code).await?;
    let content_type = if logo.content_type == "image/svg+xml" {
        "image/svg+xml"
    } else {
        "image/png"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        logo.bytes,
    )
        .into_response())
}
