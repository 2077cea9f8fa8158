//! The simulated WeChat user's pages behind `sign_url`, `show_code_url` and `session_id`:
//! load the session, pick the page and its status, and turn the user's decision into the same
//! store use-case the control API calls. Rendering lives in `crate::pages`.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::Markup;
use papay_protocol::time_format::v2_beijing;
use time::OffsetDateTime;

use super::links::{self, SIGN_PATH};
use super::AppState;
use crate::domain::contract::{Contract, ContractState, Event, Refusal, UserAction};
use crate::domain::merchant::{Merchant, Plan};
use crate::domain::values::{ClientIp, OpenId};
use crate::pages::{self, Notice, Outcome, OutcomeView, QrView, SigningView};
use crate::store::{SessionLookup, StoreError};

/// The cookie remembering the openids a tester typed, most recent first, `.`-separated
/// (openids never contain a dot).
const OPENID_COOKIE: &str = "papay_openid";
/// How many typed openids the page offers to pick from.
const REMEMBERED_OPENIDS: usize = 5;

/// The browser's address (the agreeing user's IP), when papay serves with connection info.
pub struct PeerIp(Option<ClientIp>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| ClientIp::from_addr(a.ip())),
        ))
    }
}

fn html(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, axum::response::Html(markup.into_string())).into_response();
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn notice(n: Notice) -> Response {
    let status = match n {
        Notice::NotFound => StatusCode::NOT_FOUND,
        Notice::Expired | Notice::Replaced => StatusCode::GONE,
    };
    html(status, pages::notice_page(n))
}

fn failure(e: StoreError) -> Response {
    tracing::error!(error = %e, "signing page: storage failed");
    html(StatusCode::INTERNAL_SERVER_ERROR, pages::notice_page(Notice::NotFound))
}

fn shown(t: OffsetDateTime) -> String {
    format!("{} (UTC+8)", v2_beijing(t))
}

fn query_value(raw: Option<&str>, names: &[&str]) -> Option<String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| names.contains(&k.as_ref()))
        .map(|(_, v)| v.into_owned())
}

/// A live session's contract with its merchant and plan, or the page that answers instead.
struct Loaded {
    contract: Contract,
    merchant: std::sync::Arc<Merchant>,
    plan: Option<std::sync::Arc<Plan>>,
    now: OffsetDateTime,
}

async fn load(state: &AppState, token: Option<&str>) -> Result<Loaded, Response> {
    let Some(token) = token.filter(|t| links::is_token(t)) else {
        return Err(notice(Notice::NotFound));
    };
    let contract = match state.store().session(token).await.map_err(failure)? {
        None => return Err(notice(Notice::NotFound)),
        Some(SessionLookup::Replaced(_)) => return Err(notice(Notice::Replaced)),
        Some(SessionLookup::Current(c)) => c,
    };
    let merchant = state
        .directory()
        .fresh_merchant(&contract.mchid)
        .await
        .map_err(failure)?
        .ok_or_else(|| notice(Notice::NotFound))?;
    let plan = state.directory().plan(contract.plan_id).await.map_err(failure)?;
    let now = merchant.now(state.clock().now());
    Ok(Loaded {
        contract,
        merchant,
        plan,
        now,
    })
}

/// The session named by `?os_session_id=` while the user can still act on it; otherwise the
/// page that answers instead (the outcome, or a dead-link notice).
async fn load_pending(state: &AppState, query: Option<&str>) -> Result<Loaded, Response> {
    let token = query_value(query, &["os_session_id"]);
    let l = load(state, token.as_deref()).await?;
    if let Some(page) = decided(state, &l).await {
        return Err(page);
    }
    if !l.contract.session_live(l.now) {
        return Err(notice(Notice::Expired));
    }
    Ok(l)
}

/// The page for a session whose user already decided (or whose contract ended), if any.
async fn decided(state: &AppState, l: &Loaded) -> Option<Response> {
    let c = &l.contract;
    let reason;
    let signed;
    let expires;
    let when;
    let outcome = match c.state {
        ContractState::NotSign | ContractState::Signing => return None,
        ContractState::Delete => return Some(notice(Notice::NotFound)),
        ContractState::Signed => {
            signed = c.signed_time.map(shown).unwrap_or_default();
            expires = c.expired_time.map(shown).unwrap_or_default();
            Outcome::Signed {
                contract_id: c.contract_id.as_str(),
                signed_time: &signed,
                contract_expires: &expires,
            }
        }
        ContractState::SignFail => {
            reason = failure_reason(state, c).await;
            Outcome::Failed { reason: &reason }
        }
        ContractState::Terminating | ContractState::Terminated => {
            when = c.terminated_time.map_or_else(|| "in progress".to_string(), shown);
            Outcome::Terminated { when: &when }
        }
    };
    let plan_name = l.plan.as_ref().map_or("", |p| p.name.as_str());
    Some(html(
        StatusCode::OK,
        pages::outcome_page(&OutcomeView {
            merchant_name: &l.merchant.name,
            plan_name,
            outcome,
            return_url: c.session.return_url.as_ref().map(|u| u.as_str()),
            return_appid: c.session.return_appid.as_ref().map(|a| a.as_str()),
        }),
    ))
}

/// Why the contract's signing failed, from its latest transition.
async fn failure_reason(state: &AppState, c: &Contract) -> String {
    let history = state.store().transitions(&c.contract_id).await.unwrap_or_default();
    history
        .iter()
        .rev()
        .find_map(|t| match Event::ALL.into_iter().find(|e| e.label() == t.event) {
            Some(Event::SigningFailed(why)) => Some(why.describe().to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "Signing failed.".to_string())
}

/// The openids this browser typed before, most recent first (invalid entries dropped).
fn remembered_openids(headers: &HeaderMap) -> Vec<String> {
    let Some(value) = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == OPENID_COOKIE)
        .map(|(_, v)| v.to_string())
    else {
        return Vec::new();
    };
    let mut seen = Vec::new();
    for o in value.split('.').filter_map(|o| OpenId::parse("openid", o).ok()) {
        if !seen.contains(&o.to_string()) && seen.len() < REMEMBERED_OPENIDS {
            seen.push(o.to_string());
        }
    }
    seen
}

fn signing(l: &Loaded, typed: Option<&str>, known: &[String], error: Option<&str>, status: StatusCode) -> Response {
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let c = &l.contract;
    let plan = l.plan.as_deref();
    html(
        status,
        pages::signing_page(&SigningView {
            merchant_name: &l.merchant.name,
            mchid: c.mchid.as_str(),
            plan_name: plan.map_or("", |p| p.name.as_str()),
            plan_id: u64::try_from(c.plan_id.get()).unwrap_or_default(),
            user_display_name: c.user_display_name.as_ref().map(|d| d.as_str()),
            channel: c.session.channel.as_str(),
            session_id: c.session.token.as_str(),
            expires_at: &shown(c.session.expires_at),
            contract_validity_days: plan.map_or(365, |p| p.contract_validity_days),
            openid: c.openid.as_ref().map(|o| o.as_str()),
            default_openid: typed.or(known.first().copied()),
            known_openids: &known,
            form_action: SIGN_PATH,
            error,
        }),
    )
}

/// `GET /global/papay/contracts/login?os_session_id=…`: the signing page. Opening it moves the
/// contract NOTSIGN → SIGNING; a decided session shows its outcome; a dead link says so.
pub async fn sign_page(State(state): State<AppState>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let mut l = match load_pending(&state, query.as_deref()).await {
        Ok(l) => l,
        Err(page) => return page,
    };
    match state
        .store()
        .act_on_session(l.contract.session.token.as_str(), &UserAction::Open, l.now)
        .await
    {
        Ok(Ok(change)) => l.contract = change.contract,
        Ok(Err(Refusal::SessionExpired)) => return notice(Notice::Expired),
        Ok(Err(_)) => return notice(Notice::NotFound),
        Err(e) => return failure(e),
    }
    signing(&l, None, &remembered_openids(&headers), None, StatusCode::OK)
}

/// `POST /global/papay/contracts/login` (form `os_session_id`, `decision`, `openid`): the
/// user's decision, then `303` back to the signing page, which shows the outcome.
pub async fn decide(State(state): State<AppState>, PeerIp(peer): PeerIp, headers: HeaderMap, body: Bytes) -> Response {
    let known = remembered_openids(&headers);
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let token = field("os_session_id");
    let l = match load(&state, token.as_deref()).await {
        Ok(l) => l,
        Err(page) => return page,
    };
    let back = links::sign_url("", l.contract.session.token.as_str());
    let mut remember = None;
    let action = match field("decision").as_deref() {
        Some("decline") => UserAction::Decline,
        Some("agree") => {
            let typed = field("openid").filter(|o| !o.is_empty());
            let openid = match (&l.contract.openid, typed) {
                (Some(fixed), _) => fixed.clone(),
                (None, Some(typed)) => match OpenId::parse("openid", &typed) {
                    Ok(o) => {
                        remember = Some(o.to_string());
                        o
                    }
                    Err(e) => {
                        let why = format!("The openid {}.", e.issue);
                        return signing(&l, Some(&typed), &known, Some(&why), StatusCode::BAD_REQUEST);
                    }
                },
                (None, None) => {
                    let why = "Enter the openid of the WeChat user who signs.";
                    return signing(&l, None, &known, Some(why), StatusCode::BAD_REQUEST);
                }
            };
            UserAction::Agree {
                openid,
                client_ip: peer,
            }
        }
        _ => {
            return signing(
                &l,
                None,
                &known,
                Some("Choose Agree or Decline."),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    match state
        .store()
        .act_on_session(l.contract.session.token.as_str(), &action, l.now)
        .await
    {
        Ok(Ok(_)) => state.wakeup().wake(),
        Ok(Err(Refusal::SessionClosed)) => {}
        Ok(Err(Refusal::SessionExpired)) => return notice(Notice::Expired),
        Ok(Err(_)) => return notice(Notice::NotFound),
        Err(e) => return failure(e),
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&back) {
        r.headers_mut().insert(LOCATION, v);
    }
    if let Some(openid) = remember {
        let mut list = vec![openid.clone()];
        list.extend(known.into_iter().filter(|o| *o != openid));
        list.truncate(REMEMBERED_OPENIDS);
        let cookie = format!(
            "{OPENID_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
            list.join(".")
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            r.headers_mut().insert(SET_COOKIE, v);
        }
    }
    r
}

/// `GET /global/papay/contracts/sessions/show_code?os_session_id=…`: the PC-web page, a QR
/// code of the signing page. Showing it is not opening it: the state stays NOTSIGN.
pub async fn show_code(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let l = match load_pending(&state, query.as_deref()).await {
        Ok(l) => l,
        Err(page) => return page,
    };
    let c = &l.contract;
    let signing_url = links::sign_url(state.public_url(), c.session.token.as_str());
    let note = loopback_note(&signing_url);
    html(
        StatusCode::OK,
        pages::qr_page(&QrView {
            merchant_name: &l.merchant.name,
            plan_name: l.plan.as_ref().map_or("", |p| p.name.as_str()),
            user_display_name: c.user_display_name.as_ref().map(|d| d.as_str()),
            signing_url: &signing_url,
            expires_at: &shown(c.session.expires_at),
            note: note.as_deref(),
        }),
    )
}

/// A warning when the QR code points at this machine only (papay without a `public_url`).
fn loopback_note(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', '?']).next()?;
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    ["127.0.0.1", "localhost", "[::1]"].contains(&name).then(|| {
        format!("This code points at {host}, which a phone cannot reach; start papay with a public_url the phone can reach, or open the link below.")
    })
}

/// `GET /papay/open?sessionId=…`: the APP / mini-program stand-in. Without a session id, a
/// form to paste one; with one, on to its signing page.
pub async fn open(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Some(token) = query_value(query.as_deref(), &["sessionId", "session_id"]).map(|t| t.trim().to_string()) else {
        return html(StatusCode::OK, pages::session_entry_page(None));
    };
    let known = links::is_token(&token) && matches!(state.store().session(&token).await, Ok(Some(_)));
    if !known {
        return html(
            StatusCode::NOT_FOUND,
            pages::session_entry_page(Some("papay issued no signing session with this id.")),
        );
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&links::sign_url("", &token)) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// `GET /papay/readentrustwebtemplate?type=index&session_id=…`: an h5entrustweb `redirect_url`
/// (APIv2) forwards to the signing page of its session, where the user decides as for APIv3.
pub async fn v2_redirect(RawQuery(query): RawQuery) -> Response {
    let Some(token) = query_value(query.as_deref(), &["session_id"]).filter(|t| links::is_token(t)) else {
        return notice(Notice::NotFound);
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&links::sign_url("", &token)) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}
