//! An organization's logo, as uploaded for its certificates and verification pages: a PNG
//! (checked to be one, within size limits) or an SVG (sanitized like a certificate
//! template). It is drawn into certificates as a `data:` image, so nothing in it is ever
//! read as part of a template, and served on its own with a content type recert chose.

use crate::template::{Refused, clean};
use base64::Engine;

/// The largest logo accepted.
pub const MAX_BYTES: usize = 512 * 1024;
/// The largest PNG width or height, in pixels.
pub const MAX_PIXELS: u32 = 2000;

/// A logo fit to store: its bytes, content type, and what sanitizing took out of an SVG.
#[derive(Debug, Clone)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub removed: Vec<String>,
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Checks an uploaded logo: a PNG that decodes within the limits, or an SVG, sanitized.
/// Anything else is refused with the reason.
pub fn check(bytes: &[u8]) -> Result<Logo, Refused> {
    if bytes.is_empty() {
        return Err(Refused("the logo is empty: upload a PNG or an SVG".into()));
    }
    if bytes.len() > MAX_BYTES {
        return Err(Refused(format!(
            "the logo is {} KB: at most {} KB",
            bytes.len() / 1024,
            MAX_BYTES / 1024
        )));
    }
    if bytes.starts_with(PNG_SIGNATURE) {
        return check_png(bytes);
    }
    let neither = || Refused("the logo is neither a PNG nor an SVG".into());
    let text = std::str::from_utf8(bytes).map_err(|_| neither())?;
    let text = text.trim_start_matches('\u{feff}');
    // Markup at least: anything else is some other file, whatever its name says.
    if !text.trim_start().starts_with('<') {
        return Err(neither());
    }
    let s = clean(text, "logo")?;
    Ok(Logo {
        bytes: s.svg.into_bytes(),
        content_type: "image/svg+xml",
        removed: s.removed,
    })
}

/// A PNG is read through to its last pixel, so a truncated or malformed one is refused
/// here rather than drawn as a blank.
fn check_png(bytes: &[u8]) -> Result<Logo, Refused> {
    let bad = |e: png::DecodingError| Refused(format!("the logo is not a readable PNG: {e}"));
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_limits(png::Limits {
        bytes: 16 * 1024 * 1024,
    });
    let mut reader = decoder.read_info().map_err(bad)?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w > MAX_PIXELS || h > MAX_PIXELS {
        return Err(Refused(format!(
            "the logo is {w}×{h} pixels: at most {MAX_PIXELS}×{MAX_PIXELS}"
        )));
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| Refused("the logo is too large to draw".into()))?;
    let mut buf = vec![0; size];
    reader.next_frame(&mut buf).map_err(bad)?;
    Ok(Logo {
        bytes: bytes.to_vec(),
        content_type: "image/png",
        removed: Vec::new(),
    })
}

/// The logo as a `data:` URL, for an `<image href>` in a certificate.
pub fn data_url(bytes: &[u8], content_type: &str) -> String {
    format!(
        "data:{content_type};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_png() -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut e = png::Encoder::new(&mut out, 2, 1);
            e.set_color(png::ColorType::Rgb);
            let mut w = e.write_header().unwrap();
            w.write_image_data(&[255, 0, 0, 0, 0, 255]).unwrap();
        }
        out
    }

    #[test]
    fn pngs_and_svgs_are_accepted_and_svgs_cleaned() {
        let png = check(&tiny_png()).unwrap();
        assert_eq!(png.content_type, "image/png");
        let svg = check(br#"<svg xmlns="http://www.w3.org/2000/svg" width="100" height="40" onload="alert(1)"><script>x</script><rect width="100" height="40"/></svg>"#).unwrap();
        assert_eq!(svg.content_type, "image/svg+xml");
        let text = String::from_utf8(svg.bytes).unwrap();
        assert!(
            !text.contains("script") && !text.contains("onload"),
            "{text}"
        );
        assert_eq!(svg.removed.len(), 2, "{:?}", svg.removed);
        assert!(data_url(b"ab", "image/png").starts_with("data:image/png;base64,YWI="));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let mut truncated = tiny_png();
        truncated.truncate(truncated.len() - 20);
        assert!(
            check(&truncated)
                .unwrap_err()
                .0
                .contains("not a readable PNG")
        );
        assert!(
            check(b"GIF89a....")
                .unwrap_err()
                .0
                .contains("neither a PNG nor an SVG")
        );
        assert!(check(b"").unwrap_err().0.contains("empty"));
        assert!(
            check(&vec![b' '; MAX_BYTES + 1])
                .unwrap_err()
                .0
                .contains("at most 512 KB")
        );
        assert!(
            check(b"<html></html>")
                .unwrap_err()
                .0
                .contains("root element must be <svg>")
        );
        let huge = br#"<svg xmlns="http://www.w3.org/2000/svg" width="90000" height="10"/>"#;
        assert!(check(huge).unwrap_err().0.contains("out of range"));
    }
}
