//! Lists fit for daily work: every list page (learners, certificates by status, a program's
//! holders, completions, the external training queue, the audit log) sorts by its column
//! headings, pages with "1–50 of N", keeps its filters and sort in every link, and exports
//! exactly the rows and order it shows, as CSV or XLSX written while read. On both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends};
use reqwest::Method;
use serde_json::json;

/// 120 learners u000…u119 whose names run the other way ("Name 119" is u000); the first
/// 60 in Plant; each holds P1, issued on a different day.
async fn seed(app: &TestApp) {
    app.program(
        json!({"code": "P1", "name": "Yearly", "validity": {"count": 1, "unit": "years"},
                       "items": [{"code": "C1", "kind": "course", "assigned_on": "2027-01-01"}]}),
    )
    .await;
    app.post("/api/v1/groups", json!({"name": "Plant", "kind": "site"}))
        .await
        .expect(StatusCode::CREATED);
    let mut plant = Vec::new();
    for i in 0..120 {
        let u = format!("u{i:03}");
        app.post(
            "/api/v1/learners",
            json!({"username": u, "legal_name": format!("Name {:03}", 119 - i)}),
        )
        .await
        .expect(StatusCode::CREATED);
        let day = 1 + i % 28;
        let month = 1 + i / 28;
        app.post("/api/v1/awards", json!({"learner": u, "program": "P1", "issued_on": format!("2027-{month:02}-{day:02}")}))
            .await
            .expect(StatusCode::CREATED);
        if i < 60 {
            plant.push(u);
        }
    }
    app.post("/api/v1/groups/Plant/members", json!({"usernames": plant}))
        .await
        .expect(StatusCode::OK);
}

/// The text of the first cell of each CSV data row.
fn first_column(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect()
}

/// The usernames linked from a page's table rows, in order (`/learners/u…`).
fn linked_learners(html: &str) -> Vec<String> {
    html.match_indices("href=\"/learners/u")
        .map(|(i, _)| html[i + 16..i + 20].to_owned())
        .collect()
}

both_backends! {
    async fn learners_sort_page_and_export_exactly_what_is_shown(app) {
        seed(&app).await;
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (status, page) = web.get("/learners").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("1–50 of 120</span>"), "{page}");
        // By name: "Name 000" is u119.
        assert_eq!(linked_learners(&page)[0], "u119");
        assert!(page.contains("aria-sort=\"ascending\"><a href=\"/learners?sort=-name\">Name</a>"), "{page}");
        let (_, desc) = web.get("/learners?sort=-name").await;
        assert_eq!(linked_learners(&desc)[0], "u000");
        let (_, by_user) = web.get("/learners?sort=username&page=3").await;
        assert!(by_user.contains("101–120 of 120</span>"), "{by_user}");
        assert_eq!(linked_learners(&by_user)[0], "u100");
        assert!(by_user.contains("href=\"/learners?sort=username&#38;page=2\" rel=\"prev\""), "{by_user}");

        // The group filter is kept in every link and in the exports.
        let (_, plant) = web.get("/learners?group=Plant&sort=-name").await;
        assert!(plant.contains("1–50 of 60</span>"), "{plant}");
        assert!(plant.contains("href=\"/learners?group=Plant&#38;sort=-name&#38;page=2\""), "{plant}");
        assert!(plant.contains("href=\"/learners?group=Plant&#38;sort=-name&#38;format=csv\""), "{plant}");
        let (status, csv) = web.get("/learners?group=Plant&sort=-name&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        let rows = first_column(&csv);
        assert_eq!(rows.len(), 60, "{csv}");
        assert_eq!(&rows[..3], ["u000", "u001", "u002"]);
        assert!(csv.contains(",Plant,"), "{csv}");
        let res = app.client.get(format!("{}/learners?group=Plant&format=xlsx", app.base))
            .header("cookie", format!("recert_session={}", web.session)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-disposition"].to_str().unwrap().contains("learners.xlsx"));
        let bytes = res.bytes().await.unwrap();
        assert_eq!(&bytes[..2], b"PK");

        // A group's members: the same list on the group page.
        let (_, group) = web.get("/groups/Plant?sort=-name&page=2").await;
        assert!(group.contains("51–60 of 60</span>"), "{group}");
        assert_eq!(linked_learners(&group)[0], "u050");
        let (_, csv) = web.get("/groups/Plant?sort=username&format=csv").await;
        assert_eq!(first_column(&csv).len(), 60, "{csv}");
        assert_eq!(first_column(&csv)[0], "u000");

        // Certificates by status, searched by name or by an ID typed without hyphens.
        let (_, active) = web.get("/learners?status=active&q=Name%20005").await;
        assert!(active.contains("1–1 of 1</span>"), "{active}");
        let id = app.get("/api/v1/awards?learner=u114").await.expect(StatusCode::OK)["items"][0]["id"].as_str().unwrap().to_owned();
        let (_, by_id) = web.get(&format!("/learners?status=active&q={}", id.replace('-', "").to_lowercase())).await;
        assert!(by_id.contains("1–1 of 1</span>") && by_id.contains("u114"), "{by_id}");
        let (_, csv) = web.get("/learners?status=active&sort=-expires&format=csv").await;
        assert_eq!(csv.lines().count(), 121, "{csv}");
        let expiries: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(5).unwrap()).collect();
        let mut sorted = expiries.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(expiries, sorted);

        // Bad sort and page: a clear message, never a 500.
        let (status, page) = web.get("/learners?sort=shoe_size").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("Sort by one of: name, username"), "{page}");
        let (status, _) = web.get("/learners?page=0").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = web.get("/learners?page=99").await;
        assert_eq!(status, StatusCode::OK);
    }
}

both_backends! {
    async fn holders_completions_queue_and_audit_sort_page_and_export(app) {
        seed(&app).await;
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;

        // A program's holders: sorted by expiry, newest first, page 2 of 3.
        let (_, page) = web.get("/programs/P1?sort=-expires&page=2").await;
        assert!(page.contains("51–100 of 120</span>"), "{page}");
        assert!(page.contains("href=\"/programs/P1?sort=-expires&#38;page=3#holders\" rel=\"next\""), "{page}");
        let (_, csv) = web.get("/programs/P1?sort=-expires&format=csv").await;
        let ids: Vec<String> = first_column(&csv);
        assert_eq!(ids.len(), 120);
        let expiries: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(5).unwrap()).collect();
        assert!(expiries.windows(2).all(|w| w[0] >= w[1]), "{csv}");

        // Completions on a learner's page.
        for (event, item, on) in [("e1", "C1", "2027-03-02"), ("e2", "C9", "2027-03-01"), ("e3", "C1", "2027-03-03")] {
            app.post("/api/v1/completions", json!({"event_id": event, "learner": "u001", "item": item, "completed_on": on}))
                .await.expect(StatusCode::CREATED);
        }
        let (_, page) = web.get("/learners/u001").await;
        assert!(page.contains("1–3 of 3</span>"), "{page}");
        let (_, csv) = web.get("/learners/u001?sort=completed&format=csv").await;
        assert_eq!(first_column(&csv), ["e2", "e1", "e3"], "{csv}");
        let (_, csv) = web.get("/learners/u001?sort=-item&format=csv").await;
        assert_eq!(first_column(&csv)[0], "e2", "{csv}");

        // The external training queue: waiting reports oldest first, with a total.
        let learner = app.user_token("u5-user", "learner", Some("u005"), &[]).await;
        // Reported a minute apart (ids are random: the order is the time of submission).
        for (minute, title) in ["First aid", "Ladders", "Forklift"].into_iter().enumerate() {
            app.set_time(&format!("2027-06-15T12:0{minute}:00Z"));
            app.send(Method::POST, "/api/v1/external-training",
                Some(json!({"program": "P1", "title": title, "provider": "SafeCo", "completed_on": "2027-05-01"})), Some(&learner))
                .await.expect(StatusCode::CREATED);
        }
        let (_, queue) = web.get("/external-training").await;
        assert!(queue.contains("1–3 of 3</span>") && queue.contains("Waiting (3)"), "{queue}");
        let first_aid = queue.find("First aid").unwrap();
        assert!(first_aid < queue.find("Forklift").unwrap(), "oldest first");
        let (_, csv) = web.get("/external-training?format=csv").await;
        assert_eq!(csv.lines().count(), 4, "{csv}");
        assert!(csv.contains(",First aid,SafeCo,2027-05-01,,pending,"), "{csv}");
        let (_, approved) = web.get("/external-training?state=approved").await;
        assert!(approved.contains("No reports."), "{approved}");
        let (status, _) = web.get("/external-training?state=lost").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // The audit log: filtered, sorted by subject, paged, exported in the same order.
        let (_, log) = web.get("/audit?action=award.created&sort=subject").await;
        assert!(log.contains("1–50 of 120</span>"), "{log}");
        assert!(log.contains("href=\"/audit?action=award.created&#38;sort=subject&#38;page=2\""), "{log}");
        let (_, csv) = web.get("/audit?action=award.created&sort=subject&format=csv").await;
        assert_eq!(csv.lines().count(), 121);
        let subjects: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(5).unwrap()).collect();
        assert!(subjects.windows(2).all(|w| w[0] <= w[1]), "{csv}");
        let (_, csv) = web.get("/audit?format=csv").await;
        let seqs: Vec<i64> = first_column(&csv).iter().map(|s| s.parse().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first by default");
    }
}

both_backends! {
    async fn successful_form_posts_redirect_to_a_result_that_can_be_shared(app) {
        app.program(json!({"code": "P1", "name": "Yearly", "validity": {"count": 1, "unit": "years"}})).await;
        for u in ["ana", "ben"] {
            app.learner(u).await;
        }
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let see_other = |r: (StatusCode, Option<String>), starts: &str| {
            assert_eq!(r.0, StatusCode::SEE_OTHER, "{r:?} for {starts}");
            let to = r.1.unwrap();
            assert!(to.starts_with(starts), "{to} should start with {starts}");
            to
        };
        let to = see_other(web.post_no_follow("/programs/P1/awards", &[("learners", "ana ben")]).await, "/programs/P1?done=awarded");
        let (_, page) = web.get(&to).await;
        assert!(page.contains("Awarded 2 of 2 learners."), "{page}");
        see_other(web.post_no_follow("/admin/users", &[("username", "pm1"), ("password", "a long enough password 1"), ("role", "auditor")]).await, "/admin/users?done=account-created");
        see_other(web.post_no_follow("/groups", &[("name", "Crew"), ("kind", "team")]).await, "/groups/Crew");
        see_other(web.post_no_follow("/groups/Crew/members", &[("usernames", "ana")]).await, "/groups/Crew?done=");
        let id = app.get("/api/v1/awards?learner=ana").await.expect(StatusCode::OK)["items"][0]["id"].as_str().unwrap().to_owned();
        see_other(web.post_no_follow(&format!("/awards/{id}/revoke"), &[("revoke_reason", "issued in error"), ("revoke_category", "issued_in_error")]).await, &format!("/awards/{id}?done="));
        // A batch where someone is skipped answers with each learner's outcome instead.
        let (status, page) = web.post("/programs/P1/awards", &[("learners", "ben")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Awarded 0 of 1 learner.") && page.contains("ben:"), "{page}");
    }
}
