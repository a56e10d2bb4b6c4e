//! Certificate documents: an SVG template filled in with an award's fields (and a QR code
//! of its verification link), drawn as a PDF (krilla: fonts embedded and subset, text
//! selectable) and a PNG (resvg). Fonts are bundled, so the output is the same on any
//! machine.

use crate::{CredentialError, Result};
use std::sync::{Arc, OnceLock};

/// The certificate template every program draws with until it has its own.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/default.svg");
const SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
/// For the characters DejaVu Sans lacks (Chinese and Japanese; not Hangul): usvg falls
/// back to it glyph by glyph.
const FALLBACK: &[u8] = include_bytes!("../fonts/DroidSansFallbackFull.ttf");
/// Korean (all 11,172 Hangul syllables), which Droid Sans Fallback lacks: NanumSquare
/// Regular (OFL-1.1), 0.7 MB.
const HANGUL: &[u8] = include_bytes!("../fonts/NanumSquareR.ttf");

fn render_error(e: impl std::fmt::Display) -> CredentialError {
    CredentialError::Document(format!("certificate: {e}"))
}

/// What a certificate shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Fields {
    pub organization: String,
    pub learner_name: String,
    pub program_name: String,
    pub program_code: String,
    pub issued_on: String,
    pub expires_on: Option<String>,
    pub certificate_id: String,
    pub verify_url: String,
    /// The organization's logo as a `data:` URL ([`crate::logo::data_url`]), if it has one.
    pub logo: Option<String>,
}

/// A font size that lets `text` fit the 700-point line at `base`, never below `min`; past
/// that, the line is squeezed to fit (`textLength`) rather than run off the page.
fn fit(text: &str, base: f64, min: f64) -> (f64, bool) {
    // DejaVu Sans Bold averages about 0.62 em per character.
    let chars = text.chars().count().max(1) as f64;
    let size = (700.0 / (chars * 0.62)).min(base);
    if size < min {
        (min, true)
    } else {
        (size.floor(), false)
    }
}

/// The QR code of `url` as an SVG element: at the default certificate's lower right, or
/// (`at` = `None`) filling whatever box a template places it in, e.g.
/// `<svg x="470" y="270" width="120" height="120">{{ qr }}</svg>`.
fn qr(url: &str, at: Option<(u32, u32, u32)>) -> Result<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(render_error)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(120, 120)
        .quiet_zone(true)
        .build();
    let start = svg
        .find("<svg")
        .ok_or_else(|| render_error("no QR code drawn"))?;
    let svg = &svg[start..];
    let open_end = svg
        .find('>')
        .ok_or_else(|| render_error("no QR code drawn"))?;
    // Nested where the template leaves room (130 points square): its own width and height
    // give way to the place's; its viewBox keeps the modules square.
    let attrs: Vec<&str> = svg[4..open_end]
        .split_whitespace()
        .filter(|a| !a.starts_with("width=") && !a.starts_with("height="))
        .collect();
    let place = match at {
        Some((x, y, size)) => format!("x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\""),
        None => "width=\"100%\" height=\"100%\"".to_owned(),
    };
    Ok(format!(
        "<svg {place} {}>{}",
        attrs.join(" "),
        &svg[open_end + 1..]
    ))
}

/// The default template filled in with `f`.
pub fn svg(f: &Fields) -> Result<String> {
    svg_with(None, f)
}

/// A template (a program's own, sanitized by [`crate::template::sanitize`]; the default
/// when `None`) filled in with `f`.
pub fn svg_with(template: Option<&str>, f: &Fields) -> Result<String> {
    let mut env = minijinja::Environment::new();
    // Every field is text: escaped as XML, so a name like `<b>&` stays a name.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("default.svg", template.unwrap_or(DEFAULT_TEMPLATE))
        .map_err(render_error)?;
    let (name_size, name_squeeze) = fit(&f.learner_name, 36.0, 18.0);
    let (program_size, program_squeeze) = fit(&f.program_name, 26.0, 14.0);
    let ctx = minijinja::context! {
        organization => &f.organization,
        learner_name => &f.learner_name,
        program_name => &f.program_name,
        program_code => &f.program_code,
        issued_on => &f.issued_on,
        issued_on_text => recert_domain::dates::iso_in_words(&f.issued_on),
        expires_on_text => if template.is_some() { minijinja::Value::from(f.expires_on.as_deref().map(recert_domain::dates::iso_in_words).unwrap_or_default()) } else { minijinja::Value::from(f.expires_on.as_deref().map(recert_domain::dates::iso_in_words)) },
        expires_on => if template.is_some() { minijinja::Value::from(f.expires_on.clone().unwrap_or_default()) } else { minijinja::Value::from(f.expires_on.clone()) },
        certificate_id => &f.certificate_id,
        verify_url => &f.verify_url,
        accent => "#1f4e79",
        name_size => name_size,
        name_squeeze => name_squeeze,
        program_size => program_size,
        program_squeeze => program_squeeze,
        // An <image> filling the box a template places it in, e.g.
        // `<svg x="50" y="40" width="150" height="70">{{ logo }}</svg>`; nothing without one.
        logo => minijinja::Value::from_safe_string(f.logo.as_deref().map(|url| format!(
            "<image width=\"100%\" height=\"100%\" preserveAspectRatio=\"xMidYMid meet\" href=\"{}\"/>",
            url.replace('&', "&amp;").replace('"', "&quot;")
        )).unwrap_or_default()),
        qr => minijinja::Value::from_safe_string(qr(
            &f.verify_url,
            if template.is_some() { None } else { Some((676, 410, 130)) },
        )?),
    };
    env.get_template("default.svg")
        .and_then(|t| t.render(ctx))
        .map_err(render_error)
}

fn fonts() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(SANS.to_vec());
        db.load_font_data(SANS_BOLD.to_vec());
        db.load_font_data(FALLBACK.to_vec());
        db.load_font_data(HANGUL.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        db.set_serif_family("DejaVu Sans");
        Arc::new(db)
    })
    .clone()
}

fn tree(svg: &str) -> Result<usvg::Tree> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(svg, &options).map_err(render_error)
}

/// The SVG as a one-page PDF of its own size, archival (PDF/A-2b: fonts embedded, colours
/// device-independent, XMP metadata), titled `title` and dated `date` (`YYYY-MM-DD`: the
/// certificate's issue date, so the same certificate is the same file whenever it is
/// drawn). A drawing krilla cannot make conform (some uploaded template) is written as a
/// plain PDF instead, and said in the log.
pub fn pdf(svg: &str, title: &str, date: &str) -> Result<Vec<u8>> {
    let tree = tree(svg)?;
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<u16>().ok());
    let (y, m, d) = (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten(),
    );
    let date = match (y, m, d) {
        (Some(y), Some(m), Some(d)) => krilla::metadata::DateTime::new(y)
            .month(m.min(12) as u8)
            .day(d.min(31) as u8),
        _ => return Err(render_error(format!("{date:?} is not a date"))),
    };
    let draw = |archival| draw_pdf(&tree, title, date, archival);
    match draw(true) {
        Ok(bytes) => Ok(bytes),
        Err(why) => {
            tracing::warn!(%why, "certificate drawn as a plain PDF: it cannot be PDF/A-2b");
            draw(false).map_err(render_error)
        }
    }
}

fn draw_pdf(
    tree: &usvg::Tree,
    title: &str,
    date: krilla::metadata::DateTime,
    archival: bool,
) -> std::result::Result<Vec<u8>, String> {
    use krilla::configure::{Archival, ConfigurationBuilder};
    let size = krilla::geom::Size::from_wh(tree.size().width(), tree.size().height())
        .ok_or("the template has no size")?;
    let mut settings = krilla::SerializeSettings::default();
    if archival {
        settings.configuration = ConfigurationBuilder::new()
            .with_archival_validator(Archival::A2_B)
            .finish()
            .map_err(|e| format!("{e:?}"))?;
    }
    let mut doc = krilla::Document::new_with(settings);
    doc.set_metadata(
        krilla::metadata::Metadata::new()
            .title(title.to_owned())
            .language("en".to_owned())
            .creator("recert".to_owned())
            .creation_date(date),
    );
    let mut page = doc.start_page_with(krilla::page::PageSettings::new(size));
    let mut surface = page.surface();
    krilla_svg::SurfaceExt::draw_svg(&mut surface, tree, size, krilla_svg::SvgSettings::default());
    surface.finish();
    page.finish();
    doc.finish().map_err(|e| format!("{e:?}"))
}

/// The SVG as a PNG at `scale` (1 or 2), on white.
pub fn png(svg: &str, scale: f32) -> Result<Vec<u8>> {
    let tree = tree(svg)?;
    let w = (tree.size().width() * scale).ceil() as u32;
    let h = (tree.size().height() * scale).ceil() as u32;
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(w, h).ok_or_else(|| render_error("no room to draw"))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(render_error)
}

/// The text of the QR code in a PNG (what a phone reading the certificate finds): for
/// checking drawn certificates.
pub fn qr_in_png(png: &[u8]) -> Result<String> {
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(png).map_err(render_error)?;
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let data = pixmap.data();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| data[(y * w + x) * 4]);
    let grids = img.detect_grids();
    let grid = grids
        .first()
        .ok_or_else(|| render_error("no QR code in the image"))?;
    let (_, content) = grid.decode().map_err(render_error)?;
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str) -> Fields {
        Fields {
            organization: "Northwind Industrial".into(),
            learner_name: name.into(),
            program_name: "Working at height".into(),
            program_code: "SAFE-ANNUAL".into(),
            issued_on: "2027-01-10".into(),
            expires_on: Some("2028-01-10".into()),
            certificate_id: "7K3M-9QXD-2HBR-4VTW".into(),
            verify_url: "https://certs.example/verify/7K3M-9QXD-2HBR-4VTW".into(),
            logo: None,
        }
    }

    #[test]
    fn dates_are_in_words_on_the_default_certificate_and_both_ways_in_templates() {
        // The words themselves are recert_domain::dates's (tested there).
        let s = svg(&fields("Ana")).unwrap();
        assert!(s.contains("Issued 10 January 2027"), "{s}");
        assert!(s.contains("Valid until 10 January 2028"), "{s}");
        let never = Fields {
            expires_on: None,
            ..fields("Ana")
        };
        assert!(svg(&never).unwrap().contains("Does not expire"));
        let own = "<svg xmlns=\"http://www.w3.org/2000/svg\"><text>{{ issued_on }}|{{ issued_on_text }}|{{ expires_on }}|{{ expires_on_text }}</text></svg>";
        let s = svg_with(Some(own), &fields("Ana")).unwrap();
        assert!(
            s.contains("2027-01-10|10 January 2027|2028-01-10|10 January 2028"),
            "{s}"
        );
        let s = svg_with(Some(own), &never).unwrap();
        assert!(s.contains("2027-01-10|10 January 2027||"), "{s}");
    }

    #[test]
    fn names_are_escaped_and_long_ones_fit() {
        let s = svg(&fields("<b>Ana & Bo</b>")).unwrap();
        assert!(s.contains("&lt;b&gt;Ana &amp; Bo&lt;&#x2f;b&gt;"), "{s}");
        let long = "Maria da Conceição Albuquerque Vasconcelos de Sá Carneiro Pinto";
        let s = svg(&fields(long)).unwrap();
        assert!(
            s.contains("lengthAdjust"),
            "a very long name is squeezed to its line"
        );
        assert!(fit("Ana Álvarez", 36.0, 18.0) == (36.0, false));
    }

    #[test]
    fn names_in_any_script_are_drawn_with_a_bundled_font() {
        let hangul = |c: char| ('\u{AC00}'..='\u{D7A3}').contains(&c);
        for name in [
            "王小明",
            "山田太郎",
            "김민준",
            "Γιώργος Παπαδόπουλος",
            "Сергей Иванов",
            "Zoë Ø'Brien",
        ] {
            let pdf = pdf(&svg(&fields(name)).unwrap(), name, "2027-01-10").unwrap();
            let text = String::from_utf8_lossy(&pdf);
            let cjk = name.chars().any(|c| c as u32 >= 0x3000 && !hangul(c));
            assert_eq!(
                text.contains("DroidSansFallback"),
                cjk,
                "{name}: the fallback font is embedded only when needed"
            );
            assert_eq!(
                text.contains("NanumSquare"),
                name.chars().any(hangul),
                "{name}: Hangul is drawn with NanumSquare"
            );
        }
    }

    #[test]
    fn pdf_and_png_are_drawn_and_the_qr_code_reads_back() {
        let s = svg(&fields("Ana Álvarez")).unwrap();
        let pdf = pdf(&s, "Working at height — Ana Álvarez", "2027-01-10").unwrap();
        // Archival: PDF/A-2b, as the XMP metadata says (krilla validated it when writing).
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("<pdfaid:part>2</pdfaid:part>")
                && text.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
            "not PDF/A-2b"
        );
        assert!(pdf.starts_with(b"%PDF-"));
        let png = png(&s, 1.0).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (842, 595));
        let twice = resvg::tiny_skia::Pixmap::decode_png(&super::png(&s, 2.0).unwrap()).unwrap();
        assert_eq!(twice.width(), 1684);
        assert_eq!(
            qr_in_png(&png).unwrap(),
            "https://certs.example/verify/7K3M-9QXD-2HBR-4VTW"
        );
    }
}
