//! Charts as inline SVG drawn on the server: no script, readable in print, scaled to the
//! screen by their `viewBox`. Each chart repeats its figures in text (labels on the bars,
//! a `<title>` per mark) and the page beside it carries the same numbers in a table, so a
//! screen reader or a greyscale printout loses nothing.

use std::fmt::Write;

/// One bar: a label, a fraction 0–1 (`None` = nothing to measure), the text printed at its
/// end, and where clicking it leads.
pub struct Bar {
    pub label: String,
    pub fraction: Option<f64>,
    pub text: String,
    pub href: String,
}

/// Text safe inside SVG/XML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A label cut to `n` characters (the full text stays in the mark's title).
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Horizontal bars, one per row: label above, bar below with its text, a dashed target
/// line at `target` (e.g. 0.95). Each bar is a link.
pub fn bars(title: &str, bars: &[Bar], target: Option<f64>) -> String {
    let (w, row) = (320.0_f64, 34.0_f64);
    let h = row * bars.len() as f64 + 8.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    let track = w - 60.0;
    for (i, b) in bars.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let f = b.fraction.unwrap_or(0.0).clamp(0.0, 1.0);
        // Fill by band, with a pattern for the worst band: distinguishable without colour.
        let class = match b.fraction {
            None => "none",
            Some(x) if x >= 0.95 => "good",
            Some(x) if x >= 0.8 => "fair",
            Some(_) => "poor",
        };
        let _ = write!(
            s,
            r##"<a href="{href}"><title>{full}: {text}</title><text x="0" y="{ty}" class="label">{label}</text><rect x="0" y="{ry}" width="{track}" height="12" class="track"/><rect x="0" y="{ry}" width="{bw:.1}" height="12" class="bar {class}"/><text x="{tx:.1}" y="{ty2}" class="value">{text}</text></a>"##,
            href = esc(&b.href),
            full = esc(&b.label),
            text = esc(&b.text),
            label = esc(&cut(&b.label, 44)),
            ty = y + 11.0,
            ry = y + 15.0,
            bw = track * f,
            tx = track + 4.0,
            ty2 = y + 26.0,
        );
    }
    if let Some(t) = target {
        let x = track * t;
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" y1="0" x2="{x:.1}" y2="{h}" class="target"><title>Target {:.0}%</title></line>"#,
            t * 100.0
        );
    }
    s.push_str("</svg>");
    s
}

/// A line of percentages over time (e.g. the first of each month), with a dot and its
/// value per point; a missing value breaks the line.
pub fn trend(title: &str, points: &[(String, Option<f64>)]) -> String {
    let (w, h, top, bottom, left) = (320.0_f64, 150.0_f64, 12.0, 128.0, 28.0);
    let n = points.len().max(2) as f64;
    let x = |i: usize| left + (w - left - 8.0) * i as f64 / (n - 1.0);
    let y = |f: f64| bottom - (bottom - top) * f.clamp(0.0, 1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    for g in [0.0, 0.5, 1.0] {
        let _ = write!(
            s,
            r#"<line x1="{left}" x2="{w}" y1="{yy:.1}" y2="{yy:.1}" class="grid"/><text x="0" y="{ty:.1}" class="axis">{p:.0}%</text>"#,
            yy = y(g),
            ty = y(g) + 4.0,
            p = g * 100.0
        );
    }
    let mut path = String::new();
    for (i, (_, v)) in points.iter().enumerate() {
        if let Some(f) = v {
            let cmd = if path.is_empty() || points[i - 1].1.is_none() {
                'M'
            } else {
                'L'
            };
            let _ = write!(path, "{cmd}{:.1},{:.1} ", x(i), y(*f));
        }
    }
    if !path.is_empty() {
        let _ = write!(s, r#"<path d="{}" class="line"/>"#, path.trim_end());
    }
    for (i, (label, v)) in points.iter().enumerate() {
        if let Some(f) = v {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" class="dot"><title>{}: {:.1}%</title></circle>"#,
                x(i),
                y(*f),
                esc(label),
                f * 100.0
            );
        }
        // Every other month label, so they fit on a phone.
        if i % 2 == 0 || i + 1 == points.len() {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" class="axis" text-anchor="middle">{}</text>"#,
                x(i),
                h - 4.0,
                esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_links_kept() {
        let svg = bars(
            "t",
            &[Bar {
                label: "<script>".into(),
                fraction: Some(0.5),
                text: "50%".into(),
                href: "/x?a=1&b=2".into(),
            }],
            Some(0.95),
        );
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains(r#"href="/x?a=1&amp;b=2""#));
        assert!(!svg.contains("<script>"));
    }

    #[test]
    fn trend_breaks_on_missing_values() {
        let svg = trend(
            "t",
            &[
                ("Jan".into(), Some(0.5)),
                ("Feb".into(), None),
                ("Mar".into(), Some(0.7)),
            ],
        );
        let d = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(d.matches('M').count(), 2);
    }
}
