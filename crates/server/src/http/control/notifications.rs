//! The delivery log: a merchant's notifications with every attempt, resend, pause and resume.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use papay_protocol::notifications::{EVENT_SIGN, EVENT_TERMINATE};
use papay_protocol::time_format::rfc3339_beijing;
use serde::Serialize;

use super::error::ErrorBody;
use super::{list_limit, merchant_in_path, Caller, ControlError, Seg, DEFAULT_LIMIT};
use crate::domain::notification::DeliveryStatus;
use crate::domain::values::ContractId;
use crate::http::AppState;
use crate::store::{AttemptRecord, NotificationFilter, NotificationRecord};

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    number: u32,
    /// Real time the request went out.
    at: String,
    /// The merchant's (virtual) time then.
    virtual_at: String,
    url: String,
    http_status: Option<u16>,
    latency_ms: u64,
    /// DELIVERED, FAILED or DROPPED.
    outcome: &'static str,
    error: Option<String>,
    /// The first bytes of the receiver's answer.
    response_head: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    id: String,
    contract_id: String,
    event_type: String,
    create_time: String,
    /// PENDING, DELIVERED or GAVE_UP.
    status: &'static str,
    attempts: u32,
    /// Merchant time of the next attempt while PENDING.
    next_attempt_at: Option<String>,
    /// The exact envelope sent on every attempt, once the first attempt fixed it.
    body: Option<String>,
    /// Every attempt, oldest first (only when fetched alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<Vec<AttemptView>>,
}

impl NotificationView {
    fn new(n: &NotificationRecord, with_log: bool) -> Self {
        NotificationView {
            id: n.id.clone(),
            contract_id: n.contract_id.to_string(),
            event_type: n.event_type.clone(),
            create_time: rfc3339_beijing(n.created_at),
            status: n.status.as_str(),
            attempts: n.attempts,
            next_attempt_at: (n.status == DeliveryStatus::Pending)
                .then_some(n.next_due)
                .flatten()
                .map(rfc3339_beijing),
            body: n.body.clone(),
            log: with_log.then(|| n.log.iter().map(attempt_view).collect()),
        }
    }
}

fn attempt_view(a: &AttemptRecord) -> AttemptView {
    AttemptView {
        number: a.number,
        at: rfc3339_beijing(a.at),
        virtual_at: rfc3339_beijing(a.virtual_at),
        url: a.url.clone(),
        http_status: a.http_status,
        latency_ms: a.latency_ms,
        outcome: a.outcome.as_str(),
        error: a.error.clone(),
        response_head: a.response_head.clone(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    notifications: Vec<NotificationView>,
}

fn filter(query: Option<&str>) -> Result<NotificationFilter, ControlError> {
    let mut f = NotificationFilter {
        limit: DEFAULT_LIMIT,
        ..NotificationFilter::default()
    };
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "contract_id" => f.contract_id = Some(ContractId::parse("contract_id", &v)?),
            "event_type" => match v.as_ref() {
                EVENT_SIGN | EVENT_TERMINATE => f.event_type = Some(v.into_owned()),
                other => {
                    return Err(ControlError::Param(format!(
                        "event_type {other:?} is not PAPAY.SIGN or PAPAY.TERMINATE"
                    )))
                }
            },
            "status" => {
                f.status = Some(DeliveryStatus::parse(&v).ok_or_else(|| {
                    ControlError::Param(format!("status {v:?} is not PENDING, DELIVERED or GAVE_UP"))
                })?);
            }
            "limit" => f.limit = list_limit(&v)?,
            other => return Err(ControlError::Param(format!("unknown query parameter {other:?}"))),
        }
    }
    Ok(f)
}

/// `GET /sandbox/v1/merchants/{mchid}/notifications`
#[utoipa::path(
    get, path = "/sandbox/v1/merchants/{mchid}/notifications", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id"), ("contract_id" = Option<String>, Query), ("event_type" = Option<String>, Query, description = "PAPAY.SIGN or PAPAY.TERMINATE"), ("status" = Option<String>, Query, description = "PENDING, DELIVERED or GAVE_UP"), ("limit" = Option<u32>, Query, description = "1 to 500, default 100")),
    responses((status = 200, description = "Newest first", body = NotificationList), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
    RawQuery(query): RawQuery,
) -> Result<Json<NotificationList>, ControlError> {
    let m = merchant_in_path(&state, &caller, &mchid).await?;
    let f = filter(query.as_deref())?;
    let found = state.store().notifications_of(&m.mchid, &f).await?;
    Ok(Json(NotificationList {
        notifications: found.iter().map(|n| NotificationView::new(n, false)).collect(),
    }))
}

pub(crate) async fn visible(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(crate::domain::ids::Mchid, NotificationRecord), ControlError> {
    state
        .store()
        .notification(id)
        .await?
        .filter(|(mchid, _)| caller.sees(mchid))
        .ok_or(ControlError::NotificationNotFound)
}

/// `GET /sandbox/v1/notifications/{id}`
#[utoipa::path(
    get, path = "/sandbox/v1/notifications/{id}", tag = "control",
    params(("id" = String, Path, description = "The notification id")),
    responses((status = 200, description = "With every delivery attempt", body = NotificationView), (status = 404, description = "NOTIFICATION_NOT_FOUND", body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Seg(id): Seg,
) -> Result<Json<NotificationView>, ControlError> {
    let (_, n) = visible(&state, &caller, &id).await?;
    Ok(Json(NotificationView::new(&n, true)))
}

/// `POST /sandbox/v1/notifications/{id}/resend`: one more attempt now, whatever its status.
#[utoipa::path(
    post, path = "/sandbox/v1/notifications/{id}/resend", tag = "control",
    params(("id" = String, Path, description = "The notification id")),
    responses((status = 202, description = "Queued for an attempt now", body = NotificationView), (status = 404, description = "NOTIFICATION_NOT_FOUND", body = ErrorBody))
)]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Seg(id): Seg,
) -> Result<(StatusCode, Json<NotificationView>), ControlError> {
    resend_now(&state, &caller, &id).await?;
    let (_, n) = visible(&state, &caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(NotificationView::new(&n, true))))
}

/// Queues one more attempt of notification `id` now (if the caller may see it): the one path
/// the control API and the dashboard share.
pub(crate) async fn resend_now(state: &AppState, caller: &Caller, id: &str) -> Result<(), ControlError> {
    let (mchid, _) = visible(state, caller, id).await?;
    let merchant = state
        .directory()
        .fresh_merchant(&mchid)
        .await?
        .ok_or(ControlError::NotificationNotFound)?;
    if !state
        .store()
        .resend_notification(&mchid, id, merchant.now(state.clock().now()))
        .await?
    {
        return Err(ControlError::NotificationNotFound);
    }
    state.wakeup().wake();
    Ok(())
}

/// Pauses or resumes a merchant's deliveries (shared with the dashboard).
pub(crate) async fn set_paused(
    state: &AppState,
    caller: &Caller,
    mchid: &str,
    paused: bool,
) -> Result<StatusCode, ControlError> {
    let m = merchant_in_path(state, caller, mchid).await?;
    if !state.store().set_notifications_paused(&m.mchid, paused).await? {
        return Err(ControlError::MerchantNotFound);
    }
    state.wakeup().wake();
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /sandbox/v1/merchants/{mchid}/notifications/pause`: hold every delivery.
#[utoipa::path(
    post, path = "/sandbox/v1/merchants/{mchid}/notifications/pause", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 204, description = "Paused; nothing is sent until resumed"), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn pause(State(state): State<AppState>, caller: Caller, Seg(mchid): Seg) -> Result<StatusCode, ControlError> {
    set_paused(&state, &caller, &mchid, true).await
}

/// `POST /sandbox/v1/merchants/{mchid}/notifications/resume`
#[utoipa::path(
    post, path = "/sandbox/v1/merchants/{mchid}/notifications/resume", tag = "control",
    params(("mchid" = String, Path, description = "The merchant id")),
    responses((status = 204, description = "Resumed; due notifications go out now"), (status = 403, description = "NO_AUTH", body = ErrorBody), (status = 404, description = "MERCHANT_NOT_FOUND", body = ErrorBody))
)]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Seg(mchid): Seg,
) -> Result<StatusCode, ControlError> {
    set_paused(&state, &caller, &mchid, false).await
}
