//! One delivery attempt over HTTP: a fresh signature on the fixed body (APIv3) or the body as
//! signed once (APIv2), a bounded wait, no redirects, a bounded read of the answer. Which
//! addresses may be reached is config.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use papay_protocol::headers::{
    SIGNATURE_SCHEME, WECHATPAY_NONCE, WECHATPAY_SERIAL, WECHATPAY_SIGNATURE, WECHATPAY_SIGNATURE_TYPE,
    WECHATPAY_TIMESTAMP,
};
use papay_protocol::v2::papay::{parse_ack, Ack};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::NotifySettings;
use crate::domain::merchant::SigningKey;
use crate::domain::notification::{AttemptOutcome, ATTEMPT_TIMEOUT};

/// How much of an answer the delivery log keeps.
const HEAD_BYTES: usize = 256;
/// How much of an answer is read at all.
const MAX_READ: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("cannot read CA certificate {path}: {reason}")]
    Ca { path: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The answer to one attempt, as the log records it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub outcome: AttemptOutcome,
    pub http_status: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
    pub response_head: Option<String>,
}

impl Sent {
    /// An attempt that got no answer: nothing was sent, or the request failed after `started`.
    pub fn unanswered(outcome: AttemptOutcome, started: Option<Instant>, error: String) -> Self {
        Sent {
            outcome,
            http_status: None,
            latency: started.map_or(Duration::ZERO, |s| s.elapsed()),
            error: Some(error),
            response_head: None,
        }
    }

    fn failed(started: Instant, error: String) -> Self {
        Sent::unanswered(AttemptOutcome::Failed, Some(started), error)
    }
}

/// Whether `ip` is loopback, private, link-local or otherwise not on the public internet.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// DNS that drops private addresses, for deployments that forbid private targets.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| !is_private(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{} resolves only to private addresses", name.as_str()).into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// How a notification travels, by its contract's API.
#[derive(Debug, Clone, Copy)]
pub enum Wire<'a> {
    /// JSON, signed now with `key` in `Wechatpay-*` headers; `probe` sends a
    /// `WECHATPAY/SIGNTEST/` signature. Any 2xx acknowledges (§3.4).
    V3 { key: SigningKey<'a>, probe: bool },
    /// XML carrying its own `sign`; acknowledged only by a 2xx whose body's `return_code` is
    /// `SUCCESS` (§5.5).
    V2,
}

pub struct Sender {
    http: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(settings: &NotifySettings) -> Result<Self, SenderError> {
        let mut roots = Vec::new();
        for path in &settings.extra_ca_files {
            let ca = |reason: String| SenderError::Ca {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca(e.to_string()))?;
            roots.extend(reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca(e.to_string()))?);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent("papay-notifier")
            .tls_certs_merge(roots);
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        Ok(Sender {
            http: builder.build().map_err(|e| SenderError::Client(e.to_string()))?,
            allow_private: settings.allow_private_targets,
        })
    }

    /// POSTs `body` to `url` in the form `wire` says.
    pub async fn send(&self, url: &str, body: &str, wire: Wire<'_>, request_id: &str) -> Sent {
        let started = Instant::now();
        let parsed = match reqwest::Url::parse(url) {
            Ok(u) => u,
            Err(e) => return Sent::failed(started, format!("invalid URL: {e}")),
        };
        if !self.allow_private {
            let literal = match parsed.host() {
                Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
                Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
                _ => None,
            };
            if literal.is_some_and(is_private) {
                return Sent::failed(
                    started,
                    "private address refused (notify.allow_private_targets = false)".into(),
                );
            }
        }
        let request = self.http.post(parsed).header("request-id", request_id);
        let request = match wire {
            Wire::V3 { key, probe } => {
                let signed = match key.sign(time::OffsetDateTime::now_utc().unix_timestamp(), body.as_bytes(), probe) {
                    Ok(s) => s,
                    Err(e) => return Sent::failed(started, format!("signing failed: {e}")),
                };
                request
                    .header("content-type", "application/json")
                    .header(WECHATPAY_TIMESTAMP, &signed.timestamp)
                    .header(WECHATPAY_NONCE, &signed.nonce)
                    .header(WECHATPAY_SIGNATURE, &signed.signature)
                    .header(WECHATPAY_SERIAL, &signed.serial)
                    .header(WECHATPAY_SIGNATURE_TYPE, SIGNATURE_SCHEME)
            }
            Wire::V2 => request.header("content-type", "text/xml"),
        }
        .body(body.to_string());
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Sent::failed(started, describe(&e)),
        };
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        let mut error = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    answer.extend_from_slice(&chunk[..chunk.len().min(MAX_READ - answer.len())]);
                    if answer.len() >= MAX_READ {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(describe(&e));
                    break;
                }
            }
        }
        let mut outcome = AttemptOutcome::of_status(status);
        if outcome == AttemptOutcome::Failed {
            error = error.or_else(|| Some(format!("answered HTTP {status}")));
        } else if let Wire::V2 = wire {
            if let Ack::NotAcknowledged(why) = parse_ack(&answer) {
                outcome = AttemptOutcome::Failed;
                error = Some(format!("not acknowledged: {why}"));
            }
        }
        let head = &answer[..answer.len().min(HEAD_BYTES)];
        Sent {
            outcome,
            http_status: Some(status),
            latency: started.elapsed(),
            error,
            response_head: (!head.is_empty()).then(|| String::from_utf8_lossy(head).into_owned()),
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "203.0.113.9", "2001:db8::1", "::ffff:1.1.1.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
