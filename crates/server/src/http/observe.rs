//! The middleware around every request: gives it its `Request-ID` (the current real format
//! `<hex id>-<internal error number>`, 0 on success) and a tracing span carrying the id,
//! method, route and, once known, the merchant; then counts the answer in the metrics and
//! keeps it in the request journal. Also the operator endpoints: `/metrics`, `/healthz`
//! (the process serves) and `/readyz` (and its database answers).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::control::{Caller, ControlError};
use super::error::ErrorNumber;
use super::links;
use super::request_id::RequestId;
use super::AppState;
use crate::observe::{self, metrics::RequestSample, Family, JournalEntry};

pub async fn middleware(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let at = state.clock().now();
    let id = papay_protocol::nonce::upper_hex::<20>();
    request.extensions_mut().insert(RequestId(id.clone()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = request.method().to_string();
    let path = request.uri().path();
    let family = family(path);
    // The operator's own requests are not journaled, so their target is not kept.
    let target = (!operator_path(path)).then(|| {
        request
            .uri()
            .path_and_query()
            .map_or_else(|| path.to_string(), |pq| pq.as_str().to_string())
    });
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        mchid = tracing::field::Empty,
    );
    let (mut response, notes) = observe::noting(span.clone(), next.run(request).instrument(span.clone())).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();

    let number = response.extensions().get::<ErrorNumber>().map_or(0, |n| n.0);
    if let Ok(v) = HeaderValue::from_str(&format!("{id}-{number}")) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(papay_protocol::headers::REQUEST_ID), v);
    }

    let metrics = state.metrics();
    metrics.request(&RequestSample {
        family: family.as_str(),
        route: &route,
        method: &method,
        status,
        code: notes.code,
        seconds: latency.as_secs_f64(),
    });
    let latency_ms = latency.as_secs_f64() * 1000.0;
    span.in_scope(|| match notes.code {
        Some(code) => tracing::info!(status, code, latency_ms, "answered"),
        None => tracing::debug!(status, latency_ms, "answered"),
    });
    let signature = notes.signature.map(|(reason, check)| {
        metrics.signature_failure(family.as_str(), reason);
        check
    });
    if let Some(target) = target {
        state.journal().record(JournalEntry {
            at,
            request_id: id,
            method,
            target: observe::clip(&target, 2048),
            route,
            family,
            mchid: notes.mchid,
            status,
            code: notes.code,
            latency,
            signature: signature.flatten(),
        });
    }
    response
}

fn family(path: &str) -> Family {
    if path.starts_with("/v3/") || path.starts_with("/hk/v3/") {
        Family::ApiV3
    } else if [
        links::SIGN_PATH,
        links::SHOW_CODE_PATH,
        links::OPEN_PATH,
        links::V2_REDIRECT_PATH,
    ]
    .contains(&path)
    {
        Family::Page
    } else if path.starts_with("/papay/") {
        Family::ApiV2
    } else if path.starts_with("/sandbox/") {
        Family::Control
    } else {
        Family::Other
    }
}

/// Requests the journal leaves out: the operator's own (dashboard, metrics, probes, docs).
fn operator_path(path: &str) -> bool {
    [
        "/dashboard",
        "/metrics",
        "/healthz",
        "/readyz",
        "/openapi",
        "/sandbox/v1/openapi.json",
    ]
    .iter()
    .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with(['/', '.'])))
}

/// `GET /healthz`: the process serves requests (liveness; touches nothing else).
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers (readiness); 503 with the reason when it does not.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer",
            )
                .into_response()
        }
    }
}

/// `GET /metrics`, under the control API's access rule, for the admin only (the figures
/// span every merchant).
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ControlError> {
    if caller != Caller::Admin {
        return Err(ControlError::NoAuth(
            "/metrics spans every merchant: it needs the admin token".into(),
        ));
    }
    let gauges = state.store().gauges().await?;
    let body = state.metrics().render(&gauges);
    Ok(([(CONTENT_TYPE, observe::metrics::CONTENT_TYPE)], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fall_into_families() {
        assert_eq!(family("/v3/global/papay/contracts/1"), Family::ApiV3);
        assert_eq!(family("/hk/v3/certificates"), Family::ApiV3);
        assert_eq!(family("/papay/querycontract"), Family::ApiV2);
        assert_eq!(family(links::V2_REDIRECT_PATH), Family::Page);
        assert_eq!(family(links::SIGN_PATH), Family::Page);
        assert_eq!(family("/sandbox/v1/merchants"), Family::Control);
        assert_eq!(family("/metrics"), Family::Other);
    }

    #[test]
    fn the_operators_own_requests_are_not_journaled() {
        for p in [
            "/dashboard",
            "/dashboard/contracts",
            "/metrics",
            "/healthz",
            "/readyz",
            "/openapi",
            "/openapi/apiv3.json",
            "/sandbox/v1/openapi.json",
        ] {
            assert!(operator_path(p), "{p}");
        }
        for p in [
            "/dashboardx",
            "/v3/certificates",
            "/sandbox/v1/merchants",
            "/papay/querycontract",
        ] {
            assert!(!operator_path(p), "{p}");
        }
    }
}
