//! `recert bench render`: a certificate drawn from the default template as a PDF and as a
//! PNG (1× and 2×), the median of `runs` each. Absolute figures: there is no baseline to
//! run beside them (docs/benchmarks.md).

use anyhow::Result;
use recert_credentials::render::{self, Fields};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut() -> Result<Vec<u8>>) -> Result<(Duration, usize)> {
    let mut size = f()?.len(); // warm: fonts loaded, caches filled
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        size = f()?.len();
        times.push(start.elapsed());
    }
    Ok((median(times), size))
}

pub fn run(runs: usize) -> Result<()> {
    let runs = runs.max(1);
    let fields = Fields {
        organization: "Northwind Industrial".into(),
        learner_name: "Ana Álvarez".into(),
        program_name: "Annual site safety".into(),
        program_code: "SAFE-ANNUAL".into(),
        issued_on: "2027-01-10".into(),
        expires_on: Some("2028-01-10".into()),
        certificate_id: "7K3M-9QXD-2HBR-4VTW".into(),
        verify_url: "https://certs.example/verify/7K3M-9QXD-2HBR-4VTW".into(),
        // With a logo, as an organization's certificates usually are.
        logo: Some(recert_credentials::logo::data_url(
            br##"<svg xmlns="http://www.w3.org/2000/svg" width="150" height="70"><rect x="2" y="2" width="66" height="66" rx="12" fill="#1f4e79"/><path d="M14 36 l14 14 l28 -30" stroke="#fff" stroke-width="8" fill="none"/><text x="76" y="44" font-size="22" font-weight="bold" fill="#1f4e79">NWI</text></svg>"##,
            "image/svg+xml",
        )),
    };
    let (svg_t, _) = time(runs, || Ok(render::svg(&fields)?.into_bytes()))?;
    let svg = render::svg(&fields)?;
    let (pdf_t, pdf_n) = time(runs, || {
        Ok(render::pdf(
            &svg,
            "Annual site safety — Ana Álvarez",
            "2027-01-10",
        )?)
    })?;
    let (png_t, png_n) = time(runs, || Ok(render::png(&svg, 1.0)?))?;
    let (png2_t, png2_n) = time(runs, || Ok(render::png(&svg, 2.0)?))?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "bench render (median of {runs}): template + QR {:.2} ms | PDF {:.2} ms ({} KB; target ≤ 10 ms) | PNG 1× {:.2} ms ({} KB; target ≤ 25 ms) | PNG 2× {:.2} ms ({} KB)",
        ms(svg_t),
        ms(pdf_t),
        pdf_n / 1024,
        ms(png_t),
        png_n / 1024,
        ms(png2_t),
        png2_n / 1024,
    );
    Ok(())
}
