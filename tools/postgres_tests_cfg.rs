//! Test configuration: with `RECERT_TEST_POSTGRES_URL` set (or `CI=true`, where a missing
//! server must fail, not skip) the PostgreSQL cases run; otherwise the test harness lists
//! them as ignored, saying why, instead of passing them silently. Also: where the package
//! has migrations, a change to them rebuilds it.

fn main() {
    println!("cargo::rerun-if-env-changed=RECERT_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rustc-check-cfg=cfg(recert_pg)");
    // The store embeds its migrations (`sqlx::migrate!`): a new or changed one must rebuild
    // it. (A script that names what it watches turns off Cargo's default of watching the
    // whole package, so the directory is named here, where the package has one.)
    if std::path::Path::new("migrations").is_dir() {
        println!("cargo::rerun-if-changed=migrations");
    }
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if set("RECERT_TEST_POSTGRES_URL") || ci {
        println!("cargo::rustc-cfg=recert_pg");
    }
}
