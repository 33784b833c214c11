//! SMTP delivery through lettre, configured by one connection URI as Kratos configures it:
//! `smtp://user:password@host:587/` (STARTTLS required), `smtps://host:465/` (TLS from the
//! first byte), `?disable_starttls=true` for a plain local relay, `?skip_ssl_verify=true` for
//! a relay with a certificate that cannot be checked.

use crate::Transport;
use async_trait::async_trait;
use clavis_core::courier::CourierMessage;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use url::Url;

/// Why an SMTP configuration is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SmtpError {
    #[error("is not a URL: {0}")]
    Url(String),
    #[error("must use the scheme smtp or smtps, not `{0}`")]
    Scheme(String),
    #[error("names no host")]
    Host,
    #[error("the sender address `{0}` is not a valid mailbox")]
    From(String),
    #[error("TLS cannot be set up: {0}")]
    Tls(String),
}

/// Sends mail to one SMTP relay.
pub struct SmtpTransport {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpTransport {
    /// A transport for `connection_uri`, sending as `from_name <from_address>`.
    pub fn new(
        connection_uri: &str,
        from_address: &str,
        from_name: Option<&str>,
    ) -> Result<Self, SmtpError> {
        let url = Url::parse(connection_uri).map_err(|e| SmtpError::Url(e.to_string()))?;
        let host = url.host_str().ok_or(SmtpError::Host)?.to_owned();
        let flag = |name: &str| {
            url.query_pairs()
                .any(|(k, v)| k == name && (v == "true" || v == "1"))
        };
        let tls_parameters = || {
            TlsParameters::builder(host.clone())
                .dangerous_accept_invalid_certs(flag("skip_ssl_verify"))
                .build_rustls()
                .map_err(|e| SmtpError::Tls(e.to_string()))
        };
        let (tls, default_port) = match url.scheme() {
            "smtps" => (Tls::Wrapper(tls_parameters()?), 465),
            "smtp" if flag("disable_starttls") => (Tls::None, 25),
            "smtp" => (Tls::Required(tls_parameters()?), 587),
            other => return Err(SmtpError::Scheme(other.to_owned())),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(url.port().unwrap_or(default_port))
            .tls(tls)
            .timeout(Some(Duration::from_secs(15)));
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            builder = builder.credentials(Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            ));
        }
        let address = from_address
            .parse()
            .map_err(|_| SmtpError::From(from_address.to_owned()))?;
        Ok(Self {
            transport: builder.build(),
            from: Mailbox::new(from_name.map(str::to_owned), address),
        })
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn deliver(&self, message: &CourierMessage) -> Result<(), String> {
        let to: Mailbox = message
            .recipient
            .parse()
            .map_err(|e| format!("the recipient is not a valid address: {e}"))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.body.clone(),
                message.body_html.clone(),
            ))
            .map_err(|e| format!("the message cannot be built: {e}"))?;
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connection_uris_are_checked() {
        assert!(
            SmtpTransport::new(
                "smtp://127.0.0.1:2525/?disable_starttls=true",
                "a@b.c",
                None
            )
            .is_ok()
        );
        assert!(
            SmtpTransport::new("smtps://user:pw@mail.example.org/", "a@b.c", Some("Clavis"))
                .is_ok()
        );
        assert!(matches!(
            SmtpTransport::new("http://mail.example.org/", "a@b.c", None),
            Err(SmtpError::Scheme(_))
        ));
        assert!(matches!(
            SmtpTransport::new("smtp://mail.example.org/", "not an address", None),
            Err(SmtpError::From(_))
        ));
    }
}
