//! A mail sink for tests: a real SMTP server (the RFC 5321 commands a relay without
//! authentication or TLS needs) on a free loopback port, keeping every message it accepts.
//! Test servers send their mail here over SMTP, the way a production relay receives it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// The envelope recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// The message as transmitted (headers and MIME parts), dot-unstuffed.
    pub raw: String,
    /// `raw` with quoted-printable soft breaks and escapes decoded, for reading bodies.
    pub text: String,
}

impl SentMail {
    /// The value of the `Subject:` header.
    pub fn subject(&self) -> Option<&str> {
        self.raw
            .lines()
            .find_map(|line| line.strip_prefix("Subject: "))
            .map(str::trim)
    }

    /// The first line of the body that is exactly six digits: the one-time code.
    pub fn code(&self) -> Option<String> {
        self.text
            .lines()
            .map(str::trim)
            .find(|line| line.len() == 6 && line.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned)
    }

    /// The first `http` URL in the plain-text body that contains `needle`.
    pub fn link(&self, needle: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '<' || c == '>'))
            .find(|w| w.starts_with("http") && w.contains(needle))
            .map(str::to_owned)
    }
}

/// The sink and its mail.
pub struct MailSink {
    port: u16,
    received: Arc<Mutex<Vec<SentMail>>>,
    task: tokio::task::JoinHandle<()>,
}

fn lock(received: &Mutex<Vec<SentMail>>) -> MutexGuard<'_, Vec<SentMail>> {
    received
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Decodes quoted-printable soft line breaks and `=XX` escapes; other text is kept.
fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<SentMail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-sink.test\r\n250 8BITMIME\r\n"
        } else if command.starts_with("HELO") || command.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if command.starts_with("MAIL FROM:") || command.starts_with("RSET") {
            recipients.clear();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_owned();
            recipients.push(address);
            b"250 OK\r\n"
        } else if command == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                raw.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            lock(&received).push(SentMail {
                recipients: std::mem::take(&mut recipients),
                text: decode_quoted_printable(&raw),
                raw,
            });
            b"250 OK: queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

impl MailSink {
    /// Starts a sink on `127.0.0.1` and a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap_or_else(|e| crate::fail(&format!("the mail sink cannot bind: {e}")));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| crate::fail(&format!("the mail sink has no address: {e}")))
            .port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let shared = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                });
            }
        });
        Self {
            port,
            received,
            task,
        }
    }

    /// The `courier.smtp.connection_uri` that delivers here.
    pub fn connection_uri(&self) -> String {
        format!("smtp://127.0.0.1:{}/?disable_starttls=true", self.port)
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<SentMail> {
        lock(&self.received).clone()
    }

    /// The messages to `recipient` so far.
    pub fn to(&self, recipient: &str) -> Vec<SentMail> {
        self.received()
            .into_iter()
            .filter(|m| m.recipients.iter().any(|r| r == recipient))
            .collect()
    }

    /// Waits until `count` messages to `recipient` arrived, for up to ten seconds, and returns
    /// them all.
    pub async fn wait_for(&self, recipient: &str, count: usize) -> Vec<SentMail> {
        for _ in 0..200 {
            let mail = self.to(recipient);
            if mail.len() >= count {
                return mail;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.to(recipient)
    }

    /// The `count`th message to `recipient` with this subject, waiting up to ten seconds for
    /// it to arrive.
    pub async fn nth(&self, recipient: &str, subject: &str, count: usize) -> SentMail {
        for _ in 0..200 {
            let found: Vec<SentMail> = self
                .to(recipient)
                .into_iter()
                .filter(|m| m.subject() == Some(subject))
                .collect();
            if let Some(mail) = found.get(count.saturating_sub(1)) {
                return mail.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        crate::fail(&format!(
            "no mail number {count} to {recipient} with subject {subject:?} arrived within ten seconds"
        ))
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_is_decoded() {
        assert_eq!(decode_quoted_printable("a=3Db&c=\r\nd =C3=A4"), "a=b&cd ä");
    }
}
