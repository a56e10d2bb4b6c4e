//! Uploaded certificate templates: SVG with `{{ field }}` placeholders, sanitized before it
//! is stored. What could run, reach out or hide content goes (scripts, event handlers,
//! `foreignObject`, external references, animations that can rewrite links); what is too
//! big or not an SVG is refused. The caller is told each thing removed.

use std::fmt::Write;

/// The largest template accepted.
pub const MAX_BYTES: usize = 256 * 1024;
/// The largest width or height, in user units.
pub const MAX_DIMENSION: f64 = 4000.0;

/// The fields a template may name, as `{{ name }}`.
pub const FIELDS: [&str; 12] = [
    "organization",
    "learner_name",
    "program_name",
    "program_code",
    "issued_on",
    "expires_on",
    "issued_on_text",
    "expires_on_text",
    "certificate_id",
    "verify_url",
    "qr",
    "logo",
];

/// A template as stored, and what was taken out of it.
#[derive(Debug, Clone)]
pub struct Sanitized {
    pub svg: String,
    pub removed: Vec<String>,
}

/// Why a template is refused.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

const DROPPED_ELEMENTS: [&str; 12] = [
    "script",
    "foreignObject",
    "iframe",
    "object",
    "embed",
    "audio",
    "video",
    "animate",
    "animateMotion",
    "animateTransform",
    "set",
    "handler",
];

fn is_safe_reference(v: &str) -> bool {
    let v = v.trim();
    v.starts_with('#')
        || v.starts_with("data:image/png;base64,")
        || v.starts_with("data:image/jpeg;base64,")
}

/// Whether CSS text reaches outside the document (`url(…)` that is not `#…`, `@import`).
fn css_reaches_out(css: &str) -> bool {
    let lower = css.to_ascii_lowercase();
    if lower.contains("@import") {
        return true;
    }
    lower.match_indices("url(").any(|(i, _)| {
        let rest = lower[i + 4..].trim_start().trim_start_matches(['"', '\'']);
        !rest.starts_with('#')
    })
}

fn escape(s: &str, attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Placeholders must name a field, nothing else (no template logic in uploads).
fn check_placeholders(svg: &str) -> Result<(), Refused> {
    if svg.contains("{%") || svg.contains("{#") {
        return Err(Refused(
            "template logic ({% … %}, {# … #}) is not allowed: use {{ field }} placeholders only"
                .into(),
        ));
    }
    let mut rest = svg;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| Refused("a {{ placeholder is not closed with }}".into()))?;
        let name = after[..end].trim();
        if !FIELDS.contains(&name) {
            return Err(Refused(format!(
                "unknown placeholder {{{{ {name} }}}}: use one of {}",
                FIELDS.join(", ")
            )));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

fn dimension(node: roxmltree::Node, attr: &str) -> Result<(), Refused> {
    if let Some(v) = node.attribute(attr) {
        let number: String = v
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '+' || *c == 'e')
            .collect();
        let n: f64 = number
            .parse()
            .map_err(|_| Refused(format!("the svg's {attr} {v:?} is not a number")))?;
        if !(n > 0.0 && n <= MAX_DIMENSION) {
            return Err(Refused(format!(
                "the svg's {attr} {v:?} is out of range: 1 to {MAX_DIMENSION}"
            )));
        }
    }
    Ok(())
}

/// Sanitizes an uploaded template, or says why it is refused.
pub fn sanitize(svg: &str) -> Result<Sanitized, Refused> {
    if svg.len() > MAX_BYTES {
        return Err(Refused(format!(
            "the template is {} KB: at most {} KB",
            svg.len() / 1024,
            MAX_BYTES / 1024
        )));
    }
    check_placeholders(svg)?;
    clean(svg, "template")
}

/// An SVG with everything that could run, reach out or hide content taken out (and named),
/// or why it is refused. `what` names it in messages ("template", "logo").
pub(crate) fn clean(svg: &str, what: &str) -> Result<Sanitized, Refused> {
    // No DTD: entities (and their expansion bombs) are refused by the parser.
    let doc = roxmltree::Document::parse(svg)
        .map_err(|e| Refused(format!("the {what} is not well-formed SVG: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err(Refused(format!("the {what}'s root element must be <svg>")));
    }
    if root.attribute("width").is_none() || root.attribute("height").is_none() {
        return Err(Refused("the <svg> needs a width and a height".into()));
    }
    dimension(root, "width")?;
    dimension(root, "height")?;
    if let Some(vb) = root.attribute("viewBox") {
        for part in vb.split([' ', ',']).filter(|s| !s.is_empty()).skip(2) {
            let n: f64 = part
                .parse()
                .map_err(|_| Refused(format!("the viewBox {vb:?} is not four numbers")))?;
            if !(n > 0.0 && n <= MAX_DIMENSION) {
                return Err(Refused(format!("the viewBox {vb:?} is out of range")));
            }
        }
    }
    let mut out = String::new();
    let mut removed = Vec::new();
    write_node(root, &mut out, &mut removed);
    Ok(Sanitized { svg: out, removed })
}

fn write_node(node: roxmltree::Node, out: &mut String, removed: &mut Vec<String>) {
    let name = node.tag_name().name();
    if DROPPED_ELEMENTS.contains(&name) {
        removed.push(format!("<{name}> element"));
        return;
    }
    if name == "style" && css_reaches_out(node.text().unwrap_or_default()) {
        removed.push("<style> reaching outside the document".into());
        return;
    }
    let _ = write!(out, "<{name}");
    if node.parent().is_some_and(|p| p.is_root()) {
        out.push_str(" xmlns=\"http://www.w3.org/2000/svg\"");
    }
    for a in node.attributes() {
        let an = a.name();
        let qualified = match a.namespace() {
            Some("http://www.w3.org/1999/xlink") => format!("xlink:{an}"),
            Some(ns) if ns != "http://www.w3.org/2000/svg" => {
                removed.push(format!("attribute {an} in namespace {ns}"));
                continue;
            }
            _ => an.to_owned(),
        };
        if an.to_ascii_lowercase().starts_with("on") {
            removed.push(format!("{an} event handler"));
            continue;
        }
        if an == "href" && !is_safe_reference(a.value()) {
            removed.push(format!("external reference {}", a.value()));
            continue;
        }
        if (an == "style" || a.value().contains("url(")) && css_reaches_out(a.value()) {
            removed.push(format!("{an} reaching outside the document"));
            continue;
        }
        let _ = write!(out, " {qualified}=\"{}\"", escape(a.value(), true));
    }
    if node
        .attributes()
        .any(|a| a.namespace() == Some("http://www.w3.org/1999/xlink"))
        && node.parent().is_some_and(|p| p.is_root())
    {
        out.push_str(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"");
    }
    out.push('>');
    for child in node.children() {
        if child.is_element() {
            write_node(child, out, removed);
        } else if child.is_text() {
            out.push_str(&escape(child.text().unwrap_or_default(), false));
        }
    }
    let _ = write!(out, "</{name}>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_parts_are_removed_and_named() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="842" height="595" onload="alert(1)">
          <script>alert(2)</script>
          <image href="https://evil.example/track.png" width="10" height="10"/>
          <image xlink:href="file:///etc/passwd" width="10" height="10"/>
          <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>
          <style>@import url(https://evil.example/x.css);</style>
          <rect style="fill:url(https://evil.example/p)" width="5" height="5"/>
          <a href="#inside"><text x="10" y="20" onclick="steal()">{{ learner_name }} &amp; co</text></a>
          {{ qr }}
        </svg>"##;
        let s = sanitize(svg).unwrap();
        for gone in [
            "alert",
            "evil.example",
            "file:",
            "foreignObject",
            "onclick",
            "@import",
        ] {
            assert!(!s.svg.contains(gone), "{gone} in {}", s.svg);
        }
        assert!(s.svg.contains("{{ learner_name }} &amp; co"), "{}", s.svg);
        assert!(s.svg.contains("href=\"#inside\""));
        assert!(s.removed.len() >= 7, "{:?}", s.removed);
        assert!(s.removed.iter().any(|r| r.contains("<script>")));
    }

    #[test]
    fn what_cannot_be_made_safe_is_refused() {
        let huge = r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="595"></svg>"#;
        assert!(sanitize(huge).unwrap_err().0.contains("width"));
        assert!(sanitize("<html></html>").unwrap_err().0.contains("<svg>"));
        assert!(sanitize("not xml").is_err());
        let bomb = r#"<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">&a;</svg>"#;
        assert!(sanitize(bomb).is_err());
        let logic = r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">{% for x in y %}{% endfor %}</svg>"#;
        assert!(sanitize(logic).unwrap_err().0.contains("logic"));
        let unknown =
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">{{ secret }}</svg>"#;
        assert!(
            sanitize(unknown)
                .unwrap_err()
                .0
                .contains("unknown placeholder")
        );
        assert!(sanitize(&"x".repeat(MAX_BYTES + 1)).is_err());
    }
}
