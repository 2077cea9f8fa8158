//! A merchant's virtual clock: read it, advance it, change its speed, or go back to real time.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use papay_protocol::time_format::{parse_rfc3339, rfc3339_beijing};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::{merchant_in_path, Body, Caller, ControlError, Seg};
use crate::domain::clock::{VirtualClock, MAX_SPEED};
use crate::domain::merchant::Merchant;
use crate::http::AppState;

/// The furthest one call may move a clock.
const MAX_STEP: std::time::Duration = std::time::Duration::from_secs(10 * 366 * 24 * 3600);

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClockView {
    now: String,
    offset_seconds: i64,
    speed: f64,
}

fn view(m: &Merchant, real: time::OffsetDateTime) -> ClockView {
    ClockView {
        now: rfc3339_beijing(m.now(real)),
        offset_seconds: m.sandbox.clock.map_or(0, |c| c.offset(real).whole_seconds()),
        speed: m.sandbox.clock.map_or(1.0, |c| c.speed),
    }
}

/// Stores `clock` for the merchant and answers the clock as now stored.
async fn store(state: &AppState, m: &Merchant, clock: Option<VirtualClock>) -> Result<Json<ClockView>, ControlError> {
    let fresh = set_clock(state, m, clock).await?;
    Ok(Json(view(&fresh, state.clock().now())))
}

/// Stores `clock` (`None`: real time) for the merchant and wakes the notification worker;
/// answers the merchant as now stored (shared with the dashboard).
pub(crate) async fn set_clock(
    state: &AppState,
    m: &Merchant,
    clock: Option<VirtualClock>,
) -> Result<std::sync::Arc<Merchant>, ControlError> {
    if !state.store().set_clock(&m.mchid, clock).await? {
        return Err(ControlError::MerchantNotFound);
    }
    let fresh = state
        .directory()
        .fresh_merchant(&m.mchid)
        .await?
        .ok_or(ControlError::MerchantNotFound)?;
    state.wakeup().wake();
    Ok(fresh)
}

/// A step such as `"90s"` or `"2h 30m"`, at most [`MAX_STEP`].
pub(crate) fn parse_step(by: &str) -> Result<time::Duration, ControlError> {
    let step = humantime::parse_duration(by)
        .map_err(|e| ControlError::Param(format!("by {by:?} is not a duration like \"90s\" or \"2h 30m\": {e}")))?;
    if step > MAX_STEP {
        return Err(ControlError::Param(
            "by: a clock moves at most 10 years per call".into(),
        ));
    }
    time::Duration::try_from(step).map_err(|_| ControlError::Param("by is too large".into()))
}

/// The merchant's clock moved `step` ahead at real time `real`, keeping its speed.
pub(crate) fn advanced(m: &Merchant, real: time::OffsetDateTime, step: time::Duration) -> VirtualClock {
    let speed = m.sandbox.clock.map_or(1.0, |c| c.speed);
    VirtualClock::anchored(real, m.now(real) + step, speed)
}

/// `GET /sandbox/v1/merchants/{mchid}/clock`
#[utoipa::path(
    get, path = "/sandbox/v1/merchants/{mchid}/clock", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 200, description = "The merchant's clock", body = ClockView), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
) -> Result<Json<ClockView>, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    Ok(Json(view(&m, state.clock().now())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    by: String,
}

/// `POST /sandbox/v1/merchants/{mchid}/clock/advance` with `{"by": "2h"}`
#[utoipa::path(
    post, path = "/sandbox/v1/merchants/{mchid}/clock/advance", tag = "control",
    request_body = Advance,
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 200, description = "The clock after the step", body = ClockView), (status = 400, description = "PARAM_ERROR", body = ErrorBody), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn advance(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
    Body(req): Body<Advance>,
) -> Result<Json<ClockView>, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    let step = parse_step(&req.by)?;
    let real = state.clock().now();
    store(&state, &m, Some(advanced(&m, real, step))).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    speed: Option<f64>,
    now: Option<String>,
}

/// `PUT /sandbox/v1/merchants/{mchid}/clock` with `{"speed": F}` and/or `{"now": RFC3339}`
#[utoipa::path(
    put, path = "/sandbox/v1/merchants/{mchid}/clock", tag = "control",
    request_body = SetClock,
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 200, description = "The clock as set", body = ClockView), (status = 400, description = "PARAM_ERROR", body = ErrorBody), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
    Body(req): Body<SetClock>,
) -> Result<Json<ClockView>, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    if req.speed.is_none() && req.now.is_none() {
        return Err(ControlError::Param("give \"speed\", \"now\" or both".into()));
    }
    let real = state.clock().now();
    let current = m.now(real);
    let speed = match req.speed {
        Some(s) if !(0.0..=MAX_SPEED).contains(&s) => {
            return Err(ControlError::Param(format!("speed must be between 0 and {MAX_SPEED}")));
        }
        Some(s) => s,
        None => m.sandbox.clock.map_or(1.0, |c| c.speed),
    };
    let now = match req.now.as_deref() {
        None => current,
        Some(text) => {
            let t = parse_rfc3339(text)
                .ok_or_else(|| ControlError::Param(format!("now {text:?} is not an RFC 3339 time")))?;
            if t < current.replace_nanosecond(0).unwrap_or(current) {
                return Err(ControlError::Param(format!(
                    "now must not be earlier than the clock ({}): time only moves forward",
                    rfc3339_beijing(current)
                )));
            }
            t
        }
    };
    store(&state, &m, Some(VirtualClock::anchored(real, now, speed))).await
}

/// `DELETE /sandbox/v1/merchants/{mchid}/clock`: back to real time.
#[utoipa::path(
    delete, path = "/sandbox/v1/merchants/{mchid}/clock", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 200, description = "Real time again", body = ClockView), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
) -> Result<(StatusCode, Json<ClockView>), ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    Ok((StatusCode::OK, store(&state, &m, None).await?))
}
