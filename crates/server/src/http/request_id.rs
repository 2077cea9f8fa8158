//! `Request-ID` on every answer, in the current real format `<hex id>-<internal error number>`
//! (0 on success), and a tracing span per request carrying it.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::error::ErrorNumber;

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = papay_protocol::nonce::upper_hex::<20>();
    request.extensions_mut().insert(RequestId(id.clone()));
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span.clone()).await;
    let number = response.extensions().get::<ErrorNumber>().map_or(0, |n| n.0);
    span.in_scope(|| tracing::debug!(status = response.status().as_u16(), "answered"));
    if let Ok(v) = HeaderValue::from_str(&format!("{id}-{number}")) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(papay_protocol::headers::REQUEST_ID), v);
    }
    response
}
