//! The public verification page (`/verify/{id}`): who holds what, from whom, whether it is
//! valid today and whether its signature checks, its chain of renewals, and what to do
//! when it is not valid. No account needed; rate-limited per address.

use super::{PageResult, render};
use crate::AppState;
use crate::client_addr::ClientIp;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::State;
use recert_domain::Status;
use recert_service::credentials::VerifyView;

#[derive(Template)]
#[template(path = "verify/show.html")]
struct ShowPage {
    v: std::sync::Arc<VerifyView>,
    checked: String,
}

impl ShowPage {
    fn valid(&self) -> bool {
        self.v.signature_valid && matches!(self.v.status, Status::Active | Status::Expiring)
    }

    /// The answer in a sentence.
    fn verdict(&self) -> String {
        if !self.v.signature_valid {
            return "This certificate cannot be verified.".into();
        }
        match self.v.status {
            Status::Active | Status::Expiring => "This certificate is valid.".into(),
            Status::Grace => "This certificate has expired and is in its grace period.".into(),
            Status::Lapsed => "This certificate has expired.".into(),
            Status::Revoked => "This certificate was revoked by its issuer.".into(),
            Status::Superseded => "This certificate was renewed: a newer one replaces it.".into(),
            Status::Archived => "This certificate was withdrawn by its issuer.".into(),
            Status::NotYetValid => "This certificate is not valid yet.".into(),
        }
    }

    fn what_to_do(&self) -> Option<String> {
        let org = &self.v.organization;
        match self.v.status {
            Status::Grace | Status::Lapsed => Some(format!(
                "The holder must renew it with {org}. Until then, treat it as not held."
            )),
            Status::Superseded => Some(
                "Ask the holder for their current certificate, or follow the newest link of its history.".into(),
            ),
            Status::Revoked | Status::Archived => Some(format!(
                "Do not rely on it. Contact {org} if you need to know more."
            )),
            Status::NotYetValid => Some(format!("It counts from {}.", recert_domain::dates::in_words(self.v.issued_on))),
            Status::Active | Status::Expiring => None,
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> PageResult {
    state.allow_verification(client)?;
    let v = state.service.verify_public(&id).await?;
    let checked = recert_service::history::minute_utc(state.service.now())
        .trim_end_matches(" UTC")
        .to_owned();
    Ok(render(&ShowPage { v, checked }))
}
