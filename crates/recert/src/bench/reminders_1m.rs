//! `recert bench reminders_1m`: one scheduler pass (`Service::notice_pass`, what every
//! `recert serve` runs each minute) over a million awards of which 1% have a notice due,
//! beside the bare indexed `SELECT` of the due rows on the same database in the same run.
//! The pass reads the due rows too, and then decides, records and queues a message for
//! each: the ratio says how much that costs over reading them, and that it does not grow
//! with the awards that are not due.

// Baselines are hand-written SQL on purpose, beside what the store runs.
#![allow(clippy::disallowed_methods)]

use super::awards_1m::{Data, median, on_generated, read_all};
use anyhow::{Result, bail};
use recert_domain::dates::add_days;
use std::time::{Duration, Instant};

pub async fn run(data: crate::cli::BenchData, runs: usize, due_percent: f64) -> Result<()> {
    if !(due_percent > 0.0 && due_percent <= 10.0) {
        bail!("--due-percent must be more than 0 and at most 10");
    }
    on_generated(data, "reminders_1m", async |_, generated| {
        bench(generated, runs.max(1), due_percent).await
    })
    .await
}

async fn bench(data: Data, runs: usize, due_percent: f64) -> Result<()> {
    let Data {
        backend,
        store,
        service,
        today,
        awards,
        ..
    } = data;
    let day = today.to_string();
    let want = ((awards as f64) * due_percent / 100.0).round() as i64;
    {
        // The steady state a running scheduler leaves: every current award that expires
        // is queued for its next notice (the window's opening, or tomorrow), and the
        // chosen 1% (current awards expiring within 90 days, each with a reminder due)
        // are due today.
        let mut tx = store.begin_write().await?;
        let conn = &mut **tx.conn();
        sqlx::query("CREATE TABLE bench_due (id BIGINT PRIMARY KEY)")
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO bench_due (id) SELECT id FROM awards WHERE is_current = 1 \
             AND expires_on > $1 AND expires_on <= $2 ORDER BY id LIMIT $3",
        )
        .bind(&day)
        .bind(add_days(today, 90).to_string())
        .bind(want)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM notice_queue")
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO notice_queue (due_on, award_id) \
             SELECT CASE WHEN window_opens_on > $1 THEN window_opens_on ELSE $2 END, id FROM awards \
             WHERE is_current = 1 AND always_valid = 0 AND expires_on IS NOT NULL \
             AND id NOT IN (SELECT id FROM bench_due)",
        )
        .bind(&day)
        .bind(add_days(today, 1).to_string())
        .execute(&mut *conn)
        .await?;
        tx.commit().await?;
    }
    let due: i64 = {
        let mut conn = store.read().await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM bench_due")
                .fetch_one(&mut *conn)
                .await?,
            "n",
        )?
    };
    let reset = async || -> Result<()> {
        let mut tx = store.begin_write().await?;
        let conn = &mut **tx.conn();
        sqlx::query("DELETE FROM outbox")
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM notices")
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM notice_queue WHERE award_id IN (SELECT id FROM bench_due)")
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO notice_queue (due_on, award_id) SELECT $1, id FROM bench_due")
            .bind(&day)
            .execute(&mut *conn)
            .await?;
        tx.commit().await?;
        Ok(())
    };

    let mut passes = Vec::with_capacity(runs);
    let mut selects = Vec::with_capacity(runs);
    let (mut rows_read, mut sent) = (0, 0);
    // One untimed round first: caches warm on every side.
    for i in 0..runs + 1 {
        reset().await?;
        let t = Instant::now();
        {
            let mut conn = store.read().await?;
            let rows = sqlx::query(
                "SELECT a.* FROM notice_queue q JOIN awards a ON a.id = q.award_id \
                 WHERE q.due_on <= $1 ORDER BY q.due_on, q.award_id",
            )
            .bind(&day)
            .fetch_all(&mut *conn)
            .await?;
            read_all(&rows);
            rows_read = rows.len();
        }
        let select = t.elapsed();
        let t = Instant::now();
        let report = service.notice_pass().await?;
        let pass = t.elapsed();
        sent = report.sent;
        if report.looked_at as i64 != due || report.sent as i64 != due {
            bail!(
                "the pass looked at {} awards and queued {} messages; {due} were due",
                report.looked_at,
                report.sent
            );
        }
        if i > 0 {
            selects.push(select);
            passes.push(pass);
        }
    }
    let (p, b) = (median(&mut passes), median(&mut selects));
    let ratio = p.as_secs_f64() / b.as_secs_f64().max(1e-9);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench reminders_1m ({backend}): recert pass {:.1} ms ({due} of {awards} awards due, {sent} messages queued; {:.1} µs per due award) | baseline select {:.1} ms ({rows_read} rows) | ratio {ratio:.2} | target <= 2x: {}",
        ms(p),
        p.as_secs_f64() * 1e6 / (due.max(1) as f64),
        ms(b),
        if ratio <= 2.0 { "met" } else { "MISSED" }
    );
    Ok(())
}
