//! Email over SMTP (SPEC §9): `smtp://[user:pass@]host:port` (`smtps://` = implicit TLS;
//! `?starttls=required|opportunistic|never`, default opportunistic) and a From mailbox.
//! Messages come from the outbox as JSON (see `notices::notice_message`) and go out with a
//! text and an HTML part and their `X-Recert-*` headers.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends email through one SMTP server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For logs and the settings page: the server, without credentials.
    pub server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .finish()
    }
}

fn decode(s: &str) -> String {
    // Percent-decoding of the user and password in the URL.
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Mailer {
    /// A mailer from the `smtp_url` and `mail_from` settings, or why they do not work.
    /// Call it on the Tokio runtime: the connection pool runs there.
    pub fn new(smtp_url: &str, mail_from: &str) -> Result<Self, String> {
        let from: Mailbox = mail_from.parse().map_err(|e| {
            format!("mail_from {mail_from:?} is not a mailbox (\"Name <address>\"): {e}")
        })?;
        let (scheme, rest) = smtp_url
            .split_once("://")
            .ok_or_else(|| "smtp_url must start with smtp:// or smtps://".to_owned())?;
        let implicit_tls = match scheme {
            "smtp" => false,
            "smtps" => true,
            other => {
                return Err(format!(
                    "smtp_url scheme {other:?}: use smtp:// or smtps://"
                ));
            }
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        // `host`, `host:port`, `[v6]` or `[v6]:port`.
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (h, after) = v6
                    .split_once(']')
                    .ok_or_else(|| "smtp_url has an unclosed [".to_owned())?;
                (h, after.strip_prefix(':'))
            }
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            },
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("smtp_url port {p:?} is not a number"))?,
            None if implicit_tls => 465,
            None => 25,
        };
        if host.is_empty() {
            return Err("smtp_url names no host".into());
        }
        let mut starttls = "opportunistic";
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("starttls", v @ ("required" | "opportunistic" | "never"))) => starttls = v,
                _ => {
                    return Err(format!(
                        "smtp_url parameter {pair:?}: only starttls=required|opportunistic|never"
                    ));
                }
            }
        }
        let params =
            || TlsParameters::new(host.to_owned()).map_err(|e| format!("TLS for {host}: {e}"));
        let tls = if implicit_tls {
            Tls::Wrapper(params()?)
        } else {
            match starttls {
                "required" => Tls::Required(params()?),
                "never" => Tls::None,
                _ => Tls::Opportunistic(params()?),
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(30)));
        if let Some(u) = userinfo {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            builder = builder.credentials(Credentials::new(decode(user), decode(pass)));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            server: format!("{scheme}://{host}:{port}"),
        })
    }

    /// Sends one outbox message (its JSON); the error says why not, for the outbox page.
    pub async fn send(&self, message: &serde_json::Value) -> Result<(), String> {
        let list = |key: &str| -> Result<Vec<Mailbox>, String> {
            message[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(|m| m.parse().map_err(|e| format!("{key} {m:?}: {e}")))
                .collect()
        };
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(message["subject"].as_str().unwrap_or_default());
        for m in list("to")? {
            b = b.to(m);
        }
        for m in list("cc")? {
            b = b.cc(m);
        }
        if let Some(headers) = message["headers"].as_object() {
            for (name, value) in headers {
                let name = HeaderName::new_from_ascii(name.clone())
                    .map_err(|e| format!("header {name}: {e}"))?;
                b = b.raw_header(HeaderValue::new(
                    name,
                    value.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        let email = b
            .multipart(MultiPart::alternative_plain_html(
                message["text"].as_str().unwrap_or_default().to_owned(),
                message["html"].as_str().unwrap_or_default().to_owned(),
            ))
            .map_err(|e| format!("the message cannot be built: {e}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.server))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // (The transport's connection pool lives on the Tokio runtime, as in `recert serve`.)
    #[tokio::test]
    async fn settings_are_read_or_refused_with_a_reason() {
        let m = Mailer::new(
            "smtp://mail.example:2525?starttls=never",
            "Recert <recert@example.org>",
        )
        .unwrap();
        assert_eq!(m.server, "smtp://mail.example:2525");
        let m = Mailer::new("smtps://u%40x:p%3Ass@mail.example", "recert@example.org").unwrap();
        assert_eq!(m.server, "smtps://mail.example:465");
        assert_eq!(decode("p%3Ass"), "p:ss");
        for (url, from) in [
            ("http://mail.example", "a@b.c"),
            ("mail.example:25", "a@b.c"),
            ("smtp://mail.example:port", "a@b.c"),
            ("smtp://mail.example?tls=yes", "a@b.c"),
            ("smtp://", "a@b.c"),
            ("smtp://mail.example", "not a mailbox"),
        ] {
            assert!(Mailer::new(url, from).is_err(), "{url} {from}");
        }
    }
}
