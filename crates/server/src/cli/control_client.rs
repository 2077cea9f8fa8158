//! A small typed client for papay's test-control API (`/sandbox/v1/…`, docs/control-api.md), used
//! by `papay simulate …`, `papay clock …` and `papay notifications …`.
//!
//! Every way a call can go wrong ends up as one [`ControlError`]: its text is the single line the
//! command line prints after `papay: `, and its kind picks the exit code. Answers are read into
//! the few typed fields the commands print; anything else in them is ignored, so the server may
//! grow its views without breaking the CLI.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of an answer that is not the documented JSON is shown.
const EXCERPT_CHARS: usize = 200;

/// Everything that keeps a control command from reaching its outcome.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nothing answered (refused, DNS, TLS, timeout, connection dropped mid-answer).
    #[error("cannot reach the papay server at {server}: {detail}")]
    Unreachable { server: String, detail: String },
    /// The server answered with its documented error body `{"code", "message"}`.
    #[error("{code}: {message}")]
    Refused { status: u16, code: String, message: String },
    /// The server answered something that is not the documented JSON.
    #[error("unexpected answer from the server ({status}): {excerpt}")]
    Unexpected { status: String, excerpt: String },
    /// `agree` was answered, but the contract failed to sign.
    #[error("signing failed: the contract is SIGNFAIL{}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    SigningFailed { reason: Option<String> },
    /// The call was answered, but the contract is not in the state the command promises.
    #[error("the contract is {state}, not {wanted}")]
    WrongState { state: String, wanted: &'static str },
    /// An id that cannot be one URL path segment (`url` would drop `.`/`..`, not encode them).
    #[error("{0:?} cannot be used as an id in a URL path")]
    BadId(String),
    /// The HTTP client itself could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl ControlError {
    /// 3 when the server could not be reached, 1 when it refused or the outcome was not reached
    /// (2, bad usage, is clap's).
    pub fn exit_code(&self) -> u8 {
        match self {
            ControlError::Unreachable { .. } => 3,
            _ => 1,
        }
    }
}

/// A signing session as the control API shows it (`links/resolve`, `sessions/{id}/…`).
#[derive(Debug, Deserialize)]
pub struct SessionView {
    pub session_id: String,
    /// The contract's state: NOTSIGN, SIGNING, SIGNED, SIGNFAIL, …
    pub state: String,
    #[serde(default)]
    pub contract_id: Option<String>,
    #[serde(default)]
    pub mchid: Option<String>,
    #[serde(default)]
    pub contract: Option<ContractView>,
    /// Why signing failed, when the server says (not in the documented view yet).
    #[serde(default, alias = "fail_reason")]
    pub reason: Option<String>,
}

/// The part of the query-shaped contract the CLI prints.
#[derive(Debug, Deserialize)]
pub struct ContractView {
    #[serde(default)]
    pub contract_id: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub openid: Option<String>,
    #[serde(default)]
    pub termination_mode: Option<String>,
}

/// `GET /sandbox/v1/contracts/{id}` and the terminate answer.
#[derive(Debug, Deserialize)]
pub struct ContractDetail {
    #[serde(default)]
    pub mchid: Option<String>,
    pub contract: ContractView,
}

/// A merchant's virtual clock.
#[derive(Debug, Deserialize)]
pub struct ClockView {
    pub now: String,
    pub offset_seconds: i64,
    pub speed: f64,
}

/// One notification of the delivery log (`merchants/{mchid}/notifications`,
/// `notifications/{id}`, `notifications/{id}/resend`).
#[derive(Debug, Deserialize)]
pub struct NotificationView {
    pub id: String,
    pub contract_id: String,
    /// PAPAY.SIGN or PAPAY.TERMINATE.
    pub event_type: String,
    #[serde(default)]
    pub create_time: Option<String>,
    /// PENDING, DELIVERED or GAVE_UP.
    pub status: String,
    pub attempts: u32,
    /// Merchant time of the next attempt while PENDING.
    #[serde(default)]
    pub next_attempt_at: Option<String>,
    /// Every attempt, oldest first; only when the notification is fetched alone.
    #[serde(default)]
    pub log: Option<Vec<AttemptView>>,
}

/// One delivery attempt.
#[derive(Debug, Deserialize)]
pub struct AttemptView {
    pub number: u32,
    /// The merchant's (virtual) time of the attempt.
    pub virtual_at: String,
    #[serde(default)]
    pub http_status: Option<u16>,
    pub latency_ms: u64,
    /// DELIVERED, FAILED or DROPPED.
    pub outcome: String,
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NotificationList {
    pub notifications: Vec<NotificationView>,
}

/// The filters of `merchants/{mchid}/notifications`; the ones left `None` are not sent.
#[derive(Debug, Default)]
pub struct NotificationQuery<'a> {
    pub contract_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub status: Option<&'a str>,
    pub limit: Option<u32>,
}

/// `sessions/{id}/agree`: only the fields given on the command line are sent.
#[derive(Debug, Serialize)]
pub struct AgreeBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub openid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<&'a str>,
}

/// `contracts/{id}/terminate`.
#[derive(Debug, Serialize)]
pub struct TerminateBody<'a> {
    /// `USER` or `PLATFORM`.
    #[serde(rename = "as")]
    pub actor: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

const NO_BODY: Option<&()> = None;

pub struct ControlClient {
    http: reqwest::Client,
    server: Url,
    token: Option<SecretString>,
}

impl ControlClient {
    /// `server` must be an `http(s)` base URL (the CLI's `--server` parser makes sure of it). An
    /// empty token (`PAPAY_CONTROL_TOKEN=`) is no token.
    pub fn new(server: Url, token: Option<SecretString>) -> Result<Self, ControlError> {
        let token = token.filter(|t| !t.expose_secret().is_empty());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(ANSWER_TIMEOUT)
            .build()
            .map_err(|e| ControlError::Client(innermost(&e)))?;
        Ok(ControlClient { http, server, token })
    }

    pub async fn resolve(&self, link: &str) -> Result<SessionView, ControlError> {
        let body = serde_json::json!({ "link": link });
        self.call(Method::POST, &["links", "resolve"], Some(&body)).await
    }

    pub async fn agree(&self, session_id: &str, body: &AgreeBody<'_>) -> Result<SessionView, ControlError> {
        self.call(Method::POST, &["sessions", session_id, "agree"], Some(body))
            .await
    }

    pub async fn decline(&self, session_id: &str) -> Result<SessionView, ControlError> {
        self.call(Method::POST, &["sessions", session_id, "decline"], NO_BODY)
            .await
    }

    pub async fn expire(&self, session_id: &str) -> Result<SessionView, ControlError> {
        self.call(Method::POST, &["sessions", session_id, "expire"], NO_BODY)
            .await
    }

    pub async fn terminate(&self, contract_id: &str, body: &TerminateBody<'_>) -> Result<ContractDetail, ControlError> {
        self.call(Method::POST, &["contracts", contract_id, "terminate"], Some(body))
            .await
    }

    pub async fn clock(&self, mchid: &str) -> Result<ClockView, ControlError> {
        self.call(Method::GET, &["merchants", mchid, "clock"], NO_BODY).await
    }

    pub async fn advance_clock(&self, mchid: &str, by: &str) -> Result<ClockView, ControlError> {
        let body = serde_json::json!({ "by": by });
        self.call(Method::POST, &["merchants", mchid, "clock", "advance"], Some(&body))
            .await
    }

    pub async fn set_clock_speed(&self, mchid: &str, speed: f64) -> Result<ClockView, ControlError> {
        let body = serde_json::json!({ "speed": speed });
        self.call(Method::PUT, &["merchants", mchid, "clock"], Some(&body))
            .await
    }

    /// The documentation leaves the answer open: the clock, or nothing (`None`).
    pub async fn reset_clock(&self, mchid: &str) -> Result<Option<ClockView>, ControlError> {
        let (status, text) = self
            .send(Method::DELETE, &["merchants", mchid, "clock"], NO_BODY)
            .await?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse(status, &text).map(Some)
    }

    /// Newest first, as the server orders them.
    pub async fn notifications(
        &self,
        mchid: &str,
        query: &NotificationQuery<'_>,
    ) -> Result<NotificationList, ControlError> {
        let mut url = self.url(&["merchants", mchid, "notifications"])?;
        let limit = query.limit.map(|n| n.to_string());
        let pairs = [
            ("contract_id", query.contract_id),
            ("event_type", query.event_type),
            ("status", query.status),
            ("limit", limit.as_deref()),
        ];
        if pairs.iter().any(|(_, v)| v.is_some()) {
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        }
        let (status, text) = self.send_to(Method::GET, url, NO_BODY).await?;
        parse(status, &text)
    }

    /// The notification with its attempt log.
    pub async fn notification(&self, id: &str) -> Result<NotificationView, ControlError> {
        self.call(Method::GET, &["notifications", id], NO_BODY).await
    }

    /// Queues one more attempt now; answers the notification as it then stands.
    pub async fn resend_notification(&self, id: &str) -> Result<NotificationView, ControlError> {
        self.call(Method::POST, &["notifications", id, "resend"], NO_BODY).await
    }

    /// Holds (`true`) or releases (`false`) every delivery of a merchant.
    pub async fn pause_notifications(&self, mchid: &str, paused: bool) -> Result<(), ControlError> {
        let action = if paused { "pause" } else { "resume" };
        self.send(Method::POST, &["merchants", mchid, "notifications", action], NO_BODY)
            .await
            .map(drop)
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
    ) -> Result<T, ControlError> {
        let (status, text) = self.send(method, segments, body).await?;
        parse(status, &text)
    }

    /// One call; a non-2xx answer is turned into its error here, a 2xx one is left to parse.
    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&B>,
    ) -> Result<(StatusCode, String), ControlError> {
        self.send_to(method, self.url(segments)?, body).await
    }

    /// [`send`](Self::send) to a URL already made by [`url`](Self::url) (and given a query).
    async fn send_to<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<(StatusCode, String), ControlError> {
        let mut request = self.http.request(method, url);
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                .map_err(|_| ControlError::Client("the control token is not a valid header value".into()))?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            Ok((status, text))
        } else {
            Err(refusal(status, &text))
        }
    }

    /// `{server}/sandbox/v1/{segments…}`, each segment percent-encoded, so an id from an answer
    /// or the command line can never step outside its place in the path.
    fn url(&self, segments: &[&str]) -> Result<Url, ControlError> {
        if let Some(bad) = segments.iter().find(|s| matches!(**s, "" | "." | "..")) {
            return Err(ControlError::BadId(one_line(bad)));
        }
        let mut url = self.server.clone();
        url.path_segments_mut()
            .map_err(|()| ControlError::Client(format!("{} cannot be a base URL", self.server)))?
            .pop_if_empty()
            .extend(["sandbox", "v1"])
            .extend(segments);
        Ok(url)
    }

    fn unreachable(&self, e: &reqwest::Error) -> ControlError {
        let detail = if e.is_timeout() {
            format!("no answer within {} s", ANSWER_TIMEOUT.as_secs())
        } else {
            innermost(e)
        };
        ControlError::Unreachable {
            server: self.server.as_str().trim_end_matches('/').to_string(),
            detail: one_line(&detail),
        }
    }
}

fn parse<T: DeserializeOwned>(status: StatusCode, text: &str) -> Result<T, ControlError> {
    serde_json::from_str(text).map_err(|_| unexpected(status, text))
}

fn refusal(status: StatusCode, text: &str) -> ControlError {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => ControlError::Refused {
            status: status.as_u16(),
            code: one_line(&body.code),
            message: one_line(&body.message),
        },
        Err(_) => unexpected(status, text),
    }
}

fn unexpected(status: StatusCode, text: &str) -> ControlError {
    let excerpt: String = one_line(text.trim()).chars().take(EXCERPT_CHARS).collect();
    ControlError::Unexpected {
        status: status.to_string(),
        excerpt: if excerpt.is_empty() {
            "(empty body)".into()
        } else {
            excerpt
        },
    }
}

/// The most specific cause ("Connection refused (os error 111)"), not reqwest's outer
/// "error sending request for url (…)".
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Text from the server or the network, made safe to print as part of one line.
pub fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
