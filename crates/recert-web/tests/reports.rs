//! The compliance report (SPEC §5, §9 "Reports"): each required person counted once by their
//! best award as of the day asked, on both databases; the same numbers from the API (JSON,
//! CSV, XLSX, detail), the pages, the dashboard, and the group and program pages on the demo.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends};
use serde_json::{Value, json};

async fn award(app: &TestApp, learner: &str, program: &str, issued_on: &str) -> String {
    app.post(
        "/api/v1/awards",
        json!({"learner": learner, "program": program, "issued_on": issued_on}),
    )
    .await
    .expect(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn report(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/api/v1/reports/compliance?{query}"))
        .await
        .expect(StatusCode::OK)
}

/// Today is 2027-06-15. Site B must hold Y1 (1 year, window 90, grace 30):
/// a active, b expiring in 16 days, c in grace, d lapsed, e revoked today, f nothing,
/// g issued 2027-05-01, i unassigned today, h inactive (not required), j not a member.
async fn site_b(app: &TestApp) {
    app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"}}))
        .await;
    app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"}))
        .await
        .expect(StatusCode::CREATED);
    for u in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        app.learner(u).await;
    }
    app.patch("/api/v1/learners/h", json!({"active": false}))
        .await
        .expect(StatusCode::OK);
    app.post(
        "/api/v1/groups/Site B/members",
        json!({"usernames": ["a", "b", "c", "d", "e", "f", "g", "h", "i"]}),
    )
    .await
    .expect(StatusCode::OK);
    app.post(
        "/api/v1/groups/Site B/requirements",
        json!({"program": "Y1"}),
    )
    .await
    .expect(StatusCode::CREATED);
    award(app, "a", "Y1", "2027-01-10").await;
    award(app, "b", "Y1", "2026-07-01").await;
    award(app, "c", "Y1", "2026-06-01").await;
    award(app, "d", "Y1", "2026-01-10").await;
    let e = award(app, "e", "Y1", "2027-01-10").await;
    app.post(
        &format!("/api/v1/awards/{e}/revoke"),
        json!({"reason": "issued in error", "category": "issued_in_error"}),
    )
    .await
    .expect(StatusCode::OK);
    award(app, "g", "Y1", "2027-05-01").await;
    award(app, "h", "Y1", "2027-01-10").await;
    let i = award(app, "i", "Y1", "2027-02-01").await;
    app.post(
        &format!("/api/v1/awards/{i}/archive"),
        json!({"reason": "left the role"}),
    )
    .await
    .expect(StatusCode::OK);
    award(app, "j", "Y1", "2027-01-10").await;
}

/// The trend's cell for the first of the month `back` months before the report's day:
/// the report as of that day, as the page writes it.
async fn report_as_of_first_of_month(app: &TestApp, today: &Value, back: i32) -> String {
    let day: jiff::civil::Date = today["as_of"].as_str().unwrap().parse().unwrap();
    let first = day
        .first_of_month()
        .checked_sub(jiff::Span::new().months(back))
        .unwrap();
    let r = report(app, &format!("as_of={first}")).await;
    match r["totals"]["percent_compliant"].as_f64() {
        Some(p) => format!("<a href=\"/reports/compliance?as_of={first}\">{p:.1}%</a>"),
        None => format!("<a href=\"/reports/compliance?as_of={first}\">—</a>"),
    }
}

fn figures(v: &Value) -> [i64; 9] {
    [
        "required",
        "compliant",
        "expiring_30",
        "expiring_60",
        "expiring_90",
        "grace",
        "lapsed",
        "revoked",
        "never_certified",
    ]
    .map(|k| v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}")))
}

both_backends! {
    async fn each_required_person_counts_once_by_their_best_award_as_of_the_day(app) {
        site_b(&app).await;
        let today = report(&app, "").await;
        assert_eq!(today["as_of"], "2027-06-15");
        let row = &today["rows"][0];
        assert_eq!((row["program"].as_str(), row["group"].as_str()), (Some("Y1"), Some("Site B")));
        //                         req comp e30 e60 e90 grace lapsed revoked never
        assert_eq!(figures(row), [8, 3, 1, 1, 1, 1, 1, 1, 2], "{row}");
        assert_eq!(row["percent_compliant"], 37.5);
        assert_eq!(figures(&today["totals"]), figures(row));

        // As of 1 April: e (revoked later) and i (unassigned later) still counted then;
        // g (issued later) did not; c's certificate expired 61 days later.
        let april = report(&app, "as_of=2027-04-01").await;
        assert_eq!(figures(&april["rows"][0]), [8, 5, 0, 0, 1, 0, 1, 0, 2], "{april}");

        // The people behind the numbers, worst first.
        let detail = report(&app, "detail=true&program=Y1&group=Site%20B").await;
        let people = detail["rows"][0]["learners"].as_array().unwrap();
        let standing = |u: &str| {
            people.iter().find(|p| p["username"] == u).map(|p| p["standing"].as_str().unwrap().to_owned())
        };
        assert_eq!(people.len(), 8);
        assert_eq!(standing("a").as_deref(), Some("compliant"));
        assert_eq!(standing("c").as_deref(), Some("grace"));
        assert_eq!(standing("d").as_deref(), Some("lapsed"));
        assert_eq!(standing("e").as_deref(), Some("revoked"));
        assert_eq!(standing("f").as_deref(), Some("never_certified"));
        assert_eq!(standing("i").as_deref(), Some("never_certified"));
        assert_eq!(standing("h"), None, "inactive people are not required");
        assert_eq!(standing("j"), None, "only members are required");
        assert_eq!(people[0]["standing"], "never_certified");
        let b = people.iter().find(|p| p["username"] == "b").unwrap();
        assert_eq!((b["expires_on"].as_str(), b["days_left"].as_i64()), (Some("2027-07-01"), Some(16)));
    }
}

both_backends! {
    async fn an_archived_program_is_required_of_no_one_from_its_archiving(app) {
        site_b(&app).await;
        app.post("/api/v1/programs/Y1/archive", json!({})).await.expect(StatusCode::OK);
        let today = report(&app, "").await;
        assert_eq!(today["rows"].as_array().unwrap().len(), 0, "{today}");
        assert_eq!(today["totals"]["required"], 0);
        // Before it was archived the requirement counted as it did then.
        let before = report(&app, "as_of=2027-06-14").await;
        assert_eq!(figures(&before["rows"][0])[0], 8, "{before}");
        // Nor does a learner's page say they must hold it.
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, page) = web.get("/learners/f").await;
        assert!(page.contains("None of this person's groups requires a program."), "{page}");
    }
}

both_backends! {
    async fn grace_counts_as_compliant_where_the_program_says_so(app) {
        app.program(json!({"code": "G1", "name": "Lenient", "validity": {"count": 1, "unit": "years"},
                           "grace_counts_as_compliant": true})).await;
        app.post("/api/v1/groups", json!({"name": "Crew", "kind": "team"})).await.expect(StatusCode::CREATED);
        app.learner("c").await;
        app.post("/api/v1/groups/Crew/members", json!({"usernames": ["c"]})).await.expect(StatusCode::OK);
        app.post("/api/v1/groups/Crew/requirements", json!({"program": "G1"})).await.expect(StatusCode::CREATED);
        award(&app, "c", "G1", "2026-06-01").await;
        let r = report(&app, "group=Crew&detail=true").await;
        assert_eq!(figures(&r["rows"][0]), [1, 1, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(r["rows"][0]["percent_compliant"], 100.0);
        assert_eq!(r["rows"][0]["learners"][0]["compliant"], true);
    }
}

both_backends! {
    async fn report_files_and_bad_input(app) {
        site_b(&app).await;
        // CSV: the same figures, a header row, a totals row.
        let res = app
            .client
            .get(format!("{}/api/v1/reports/compliance?format=csv", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(res.headers()["content-disposition"].to_str().unwrap().contains("compliance-2027-06-15.csv"));
        let csv = res.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("program,program_name,group,group_kind,required,compliant,percent_compliant"));
        assert_eq!(lines[1], "Y1,Yearly,Site B,site,8,3,37.5,1,1,1,1,1,1,2,2027-06-15");
        assert!(lines[2].starts_with("Total,"));

        // Formulas in names are neutralised in the detail export.
        app.post("/api/v1/learners", json!({"username": "evil", "legal_name": "=HYPERLINK(\"x\")"}))
            .await
            .expect(StatusCode::CREATED);
        app.post("/api/v1/groups/Site B/members", json!({"usernames": ["evil"]})).await.expect(StatusCode::OK);
        let csv = app
            .client
            .get(format!("{}/api/v1/reports/compliance?format=csv&detail=true", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");

        // XLSX: a workbook.
        let res = app
            .client
            .get(format!("{}/api/v1/reports/compliance?format=xlsx&as_of=2027-04-01", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(&res.bytes().await.unwrap()[..2], b"PK");

        // Bad input: problem+json naming the parameter, never a 500.
        for (query, field) in [
            ("as_of=2027-02-30", "as_of"),
            ("as_of=1066-10-14", "as_of"),
            ("program=NOPE", "program"),
            ("group=Nowhere", "group"),
            ("format=pdf", "format"),
            ("detail=maybe", "detail"),
            ("colour=red", "colour"),
        ] {
            app.get(&format!("/api/v1/reports/compliance?{query}")).await.invalid_field(field);
        }
        let res = app.get("/api/v1/reports/compliance?group=Site%00B").await;
        assert!(res.status.is_client_error(), "a NUL is refused: {}", res.status);
    }
}

both_backends! {
    async fn who_may_read_reports(app) {
        site_b(&app).await;
        app.program(json!({"code": "OTHER", "name": "Other", "validity": {"count": 1, "unit": "years"}})).await;
        let auditor = app.token_for("auditor").await;
        let res = app.send(reqwest::Method::GET, "/api/v1/reports/compliance", None, Some(&auditor)).await;
        assert_eq!(res.expect(StatusCode::OK)["rows"].as_array().unwrap().len(), 1);
        let pm = app.user_token("pm", "program_manager", None, &["OTHER"]).await;
        // A program manager sees only their programs' requirements…
        let mine = app.send(reqwest::Method::GET, "/api/v1/reports/compliance", None, Some(&pm)).await.expect(StatusCode::OK);
        assert_eq!(mine["rows"].as_array().unwrap().len(), 0);
        // …and is refused another program's.
        app.send(reqwest::Method::GET, "/api/v1/reports/compliance?program=Y1", None, Some(&pm))
            .await
            .problem(StatusCode::FORBIDDEN);
        let sup = app.user_token("sup", "supervisor", Some("a"), &[]).await;
        app.send(reqwest::Method::GET, "/api/v1/reports/compliance", None, Some(&sup))
            .await
            .problem(StatusCode::FORBIDDEN);
    }
}

fn pct(v: &Value) -> String {
    v["percent_compliant"]
        .as_f64()
        .map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%"))
}

both_backends! {
    async fn demo_dashboard_group_and_program_pages_show_the_report_figures(app) {
        assert!(app.service.seed_demo().await.unwrap());
        app.account("aud", "auditor", None, &[]).await;
        let web = app.web_session("aud").await;
        let report = report(&app, "detail=true").await;
        let totals = &report["totals"];
        let tulsa = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["group"] == "Tulsa Yard" && r["program"] == "SAFE-ANNUAL")
            .unwrap()
            .clone();
        // The demo is built so Tulsa Yard has people in every standing the issue names.
        assert!(tulsa["lapsed"].as_i64().unwrap() > 0 && tulsa["never_certified"].as_i64().unwrap() > 0, "{tulsa}");

        // Home of an auditor: the dashboard, leading with the totals of the report.
        let (status, home) = web.get("/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains(&format!("<strong class=\"big\">{}</strong>", pct(totals))), "{home}");
        for (key, tile) in [("compliant", "s-compliant"), ("grace", "s-grace"), ("lapsed", "s-lapsed"),
                            ("revoked", "s-revoked"), ("never_certified", "s-never"), ("expiring_30", "s-expiring")] {
            let n = totals[key].as_i64().unwrap();
            let at = home.find(&format!("class=\"tile {tile}\"")).unwrap();
            assert!(home[at..].contains(&format!("<span class=\"n\">{n}</span>")), "{key} = {n} on the dashboard");
        }
        // The twelve-month trend loads after the page: each month as of its first day, the
        // same figure the report gives for that day; today's last.
        assert!(home.contains("hx-get=\"/dashboard/trend\""), "{home}");
        let (status, part) = web.get_htmx("/dashboard/trend").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!part.contains("<html"), "a fragment for htmx: {part}");
        let (_, whole) = web.get("/dashboard/trend").await;
        assert!(whole.contains("<html") && whole.contains("Compliance over twelve months"), "{whole}");
        let three_back = report_as_of_first_of_month(&app, &report, 3).await;
        assert!(part.contains(&three_back), "{three_back} in {part}");
        let today_cell = format!(">{:.1}%</a></td></tr>", totals["percent_compliant"].as_f64().unwrap_or(0.0));
        assert!(part.contains(&today_cell), "{today_cell} in {part}");

        // Every number links to the people behind it, and that list has exactly that many.
        let (_, list) = web.get("/reports/compliance/people?standing=never_certified").await;
        assert!(list.contains(&format!("of {}</span>", totals["never_certified"]))
            || list.contains(&format!("1–{n} of {n}", n = totals["never_certified"])), "{list}");

        // The group page: each requirement's figures, and the people missing it.
        let (_, group) = web.get("/groups/Tulsa%20Yard").await;
        let not_compliant = tulsa["required"].as_i64().unwrap() - tulsa["compliant"].as_i64().unwrap();
        assert!(group.contains(&format!("<strong class=\"big\">{}</strong>", pct(&tulsa))), "{group}");
        assert!(group.contains(&format!("{not_compliant} not compliant</a>")), "{group}");
        assert!(group.contains(&format!("({} never certified, {} lapsed, {} in grace, {} revoked)",
            tulsa["never_certified"], tulsa["lapsed"], tulsa["grace"], tulsa["revoked"])), "{group}");
        let missing = tulsa["learners"].as_array().unwrap().iter().filter(|p| p["compliant"] == false).count();
        assert_eq!(group.matches("<li><a href=\"/learners/").count(), missing, "one line per person missing it");

        // The program page leads with its compliance, per group and in all.
        let (_, program) = web.get("/programs/SAFE-ANNUAL").await;
        let safe: Vec<&Value> = report["rows"].as_array().unwrap().iter().filter(|r| r["program"] == "SAFE-ANNUAL").collect();
        let (req, comp): (i64, i64) = safe.iter().fold((0, 0), |(a, b), r| (a + r["required"].as_i64().unwrap(), b + r["compliant"].as_i64().unwrap()));
        assert!(program.find("Compliance today").unwrap() < program.find("id=\"settings\"").unwrap(), "answer above settings");
        assert!(program.contains(&format!("{comp}</a> of\n<a href=\"/reports/compliance/people?program=SAFE-ANNUAL\">{req}</a> required")), "{program}");
        for r in &safe {
            assert!(program.contains(&format!("{} of {}</td>", r["compliant"], r["required"])), "{r}");
        }
        // "Holders today" counts valid certificates, not lapsed ones.
        let holders = app.get("/api/v1/programs/SAFE-ANNUAL/holders").await.expect(StatusCode::OK);
        assert!(program.contains(&format!("<strong>{} hold a valid certificate</strong>", holders["compliant"])), "{program}");

        // The learners list says how many match, and exports exactly those.
        let members = tulsa["required"].as_i64().unwrap();
        let (_, list) = web.get("/learners?group=Tulsa%20Yard").await;
        assert!(list.contains(&format!(" of {members}</span>")), "{list}");
        let (_, csv) = web.get("/learners?group=Tulsa%20Yard&format=csv").await;
        assert_eq!(csv.lines().count() as i64, members + 1, "{csv}");
        assert!(csv.starts_with("username,legal_name,email,groups,manager,active,end_date\n"));

        // The awarded learners export holds exactly the filtered list.
        let (status, csv) = web.get("/programs/SAFE-ANNUAL?status=lapsed&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        let listed = app.get("/api/v1/awards?program=SAFE-ANNUAL&status=lapsed&limit=500").await.expect(StatusCode::OK);
        let lapsed = listed["items"].as_array().unwrap().len();
        assert_eq!(csv.lines().count(), lapsed + 1, "{csv}");
        let (_, page) = web.get("/programs/SAFE-ANNUAL?status=lapsed").await;
        assert!(page.contains(&format!("1–{} of {lapsed}</span>", lapsed.min(50))), "{page}");
        assert!(csv.lines().skip(1).all(|l| l.contains(",Lapsed,")), "{csv}");

        // The report page's export: the same figures as the API, as a file.
        let (status, page) = web.get("/reports/compliance?program=SAFE-ANNUAL&group=Tulsa%20Yard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("{not_compliant} not compliant with SAFE-ANNUAL at Tulsa Yard")), "{page}");
    }
}

both_backends! {
    async fn leavers_count_until_their_last_day_and_people_count_in_each_group(app) {
        app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"}}))
            .await;
        for g in ["North", "Crew"] {
            app.post("/api/v1/groups", json!({"name": g, "kind": "site"})).await.expect(StatusCode::CREATED);
            app.post(&format!("/api/v1/groups/{g}/requirements"), json!({"program": "Y1"}))
                .await
                .expect(StatusCode::CREATED);
        }
        for u in ["p", "q", "r"] {
            app.learner(u).await;
        }
        app.post("/api/v1/groups/North/members", json!({"usernames": ["p", "q", "r"]})).await.expect(StatusCode::OK);
        app.post("/api/v1/groups/Crew/members", json!({"usernames": ["p"]})).await.expect(StatusCode::OK);
        award(&app, "p", "Y1", "2027-01-10").await;
        award(&app, "q", "Y1", "2027-01-10").await;
        // q left on 31 May; r leaves at the end of the year and holds nothing.
        app.patch("/api/v1/learners/q", json!({"active": false, "end_date": "2027-05-31"}))
            .await
            .expect(StatusCode::OK);
        app.patch("/api/v1/learners/r", json!({"end_date": "2027-12-31"}))
            .await
            .expect(StatusCode::OK);
        let row = |r: &Value, g: &str| r["rows"].as_array().unwrap().iter().find(|x| x["group"] == g).unwrap().clone();
        let today = report(&app, "").await;
        assert_eq!(figures(&row(&today, "North")), [2, 1, 0, 0, 0, 0, 0, 0, 1], "{today}");
        assert_eq!(figures(&row(&today, "Crew")), [1, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(today["totals"]["required"], 3, "p counts in both rows");
        // Before q's last day, q was required (and compliant).
        let may = report(&app, "as_of=2027-05-01&group=North").await;
        assert_eq!(figures(&may["rows"][0]), [3, 2, 0, 0, 0, 0, 0, 0, 1], "{may}");
        let detail = report(&app, "as_of=2027-05-01&group=North&detail=true").await;
        assert_eq!(detail["rows"][0]["learners"].as_array().unwrap().len(), 3);
    }
}

both_backends! {
    async fn certificate_id_search_forgives_hyphens_and_names_a_typo(app) {
        app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"}})).await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana Ruiz"})).await.expect(StatusCode::CREATED);
        let id = award(&app, "ana", "Y1", "2027-01-10").await;
        let bare = id.replace('-', "").to_lowercase();
        let found = app.get(&format!("/api/v1/learners?q={bare}")).await.expect(StatusCode::OK);
        assert_eq!(found["items"][0]["username"], "ana", "{bare}");
        // One symbol changed: the check character catches it, and the page says so.
        let mut typo: Vec<char> = id.chars().collect();
        typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
        let typo: String = typo.into_iter().collect();
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, page) = web.get(&format!("/learners?q={typo}")).await;
        assert!(page.contains("check character does not match"), "{page}");
    }
}

both_backends! {
    async fn auditors_read_the_log_with_reasons_and_before_after(app) {
        app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        let id = award(&app, "ana", "Y1", "2027-01-10").await;
        app.patch(&format!("/api/v1/awards/{id}"), json!({"score": 0.9, "reason": "HR correction"}))
            .await
            .expect(StatusCode::OK);
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "issued in error", "category": "issued_in_error"}))
            .await
            .expect(StatusCode::OK);
        app.account("aud", "auditor", None, &[]).await;
        let web = app.web_session("aud").await;

        let (status, page) = web.get("/audit?action=award.updated").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Edited") && page.contains("<q>HR correction</q>"), "{page}");
        assert!(page.contains("Score: <del>—</del> → <ins>0.9</ins>"), "{page}");
        assert!(page.contains("1–1 of 1</span>"), "a total: {page}");
        let (_, page) = web.get(&format!("/audit?subject_type=award&subject_id={id}")).await;
        assert!(page.contains("1–3 of 3</span>"), "created, edited, revoked: {page}");
        let (_, page) = web.get("/audit?verify=1").await;
        assert!(page.contains("✓ Intact:"), "{page}");
        let (status, csv) = web.get(&format!("/audit?subject_id={id}&format=csv")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.starts_with("seq,at_utc,actor,action,subject_type,subject_id,reason,changes,hash\n"), "{csv}");
        assert_eq!(csv.lines().count(), 4, "{csv}");
        let (_, page) = web.get("/audit?from=2027-06-20&to=2027-06-01").await;
        assert!(page.contains("There is a problem") && page.contains("on or after the first day"), "{page}");
        let (_, page) = web.get("/audit?from=2027-02-30").await;
        assert!(page.contains("There is a problem"), "{page}");

        // The award's own history says the same.
        let (_, award_page) = web.get(&format!("/awards/{id}")).await;
        assert!(award_page.contains("<q>HR correction</q>") && award_page.contains("Revoked"), "{award_page}");

        // Learners and supervisors have no audit log.
        app.account("lea", "learner", Some("ana"), &[]).await;
        let (status, _) = app.web_session("lea").await.get("/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

both_backends! {
    async fn learners_and_supervisors_see_what_is_required_and_missing(app) {
        site_b(&app).await;
        app.learner("boss").await;
        for u in ["a", "f", "d"] {
            app.patch(&format!("/api/v1/learners/{u}"), json!({"manager": "boss"})).await.expect(StatusCode::OK);
        }
        app.account("root", "admin", None, &[]).await;
        app.account("sup", "supervisor", Some("boss"), &[]).await;
        app.account("fay", "learner", Some("f"), &[]).await;

        // The learner page names the requirement and how the person stands.
        let (_, page) = app.web_session("root").await.get("/learners/f").await;
        assert!(page.contains("Required certifications") && page.contains("Required, never certified"), "{page}");

        // The learner is told what to do.
        let (_, my) = app.web_session("fay").await.get("/my").await;
        assert!(my.contains("What you need to do") && my.contains("Required, never certified"), "{my}");

        // My team: one section per person, most urgent first, with a summary line.
        let (_, team) = app.web_session("sup").await.get("/team").await;
        assert!(team.contains("3 people · 2 need action: 1 required and never certified, 1 lapsed"), "{team}");
        let (f, d, a) = (team.find("/learners/f\"").unwrap(), team.find("/learners/d\"").unwrap(), team.find("/learners/a\"").unwrap());
        assert!(f < d && d < a, "never certified, then lapsed, then compliant");
    }
}

both_backends! {
    async fn standing_group_awards_are_listed_and_stopped_from_the_pages(app) {
        app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"}})).await;
        app.post("/api/v1/groups", json!({"name": "Crew", "kind": "team"})).await.expect(StatusCode::CREATED);
        let g = app
            .post("/api/v1/group-awards", json!({"group": "Crew", "program": "Y1", "include_later_members": true}))
            .await
            .expect(StatusCode::CREATED);
        let id = g["group_award"]["id"].as_i64().or_else(|| g["id"].as_i64()).unwrap_or_else(|| panic!("{g}"));
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, group) = web.get("/groups/Crew").await;
        assert!(group.contains("Standing awards") && group.contains(&format!("/group-awards/{id}/stop")), "{group}");
        let (_, program) = web.get("/programs/Y1").await;
        assert!(program.contains(&format!("/group-awards/{id}/stop")), "{program}");
        let (status, page) = web.post(&format!("/group-awards/{id}/stop"), &[("back", "/groups/Crew")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Standing award stopped") && !page.contains(&format!("/group-awards/{id}/stop")), "{page}");
        // A made-up place to go back to is not followed.
        let (_, page) = web.post(&format!("/group-awards/{id}/stop"), &[("back", "//evil.example/")]).await;
        assert!(!page.contains("evil"), "{page}");
    }
}
