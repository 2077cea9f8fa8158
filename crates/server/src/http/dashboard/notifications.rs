//! Notification pages: the list (merchant, contract, status), one notification with every
//! attempt, and resend through the control API's use-case (`control::notifications::resend_now`).

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::access::SameOrigin;
use super::input::{Back, Fields, Form, Seg};
use super::{ok, see_other, DashError, Viewer};
use crate::dashboard::{self, Done, NotificationFilterView, NotificationRow};
use crate::domain::ids::Mchid;
use crate::domain::notification::DeliveryStatus;
use crate::domain::values::ContractId;
use crate::http::control::{self, ControlError};
use crate::http::AppState;
use crate::store::NotificationFilter;

const DEFAULT_LIMIT: u32 = 50;

/// `GET /dashboard/notifications?mchid=&contract_id=&status=&limit=`
pub async fn list(State(state): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Result<Response, DashError> {
    let f = Fields::query(q.as_deref())?;
    f.only(&["mchid", "contract_id", "status", "limit", "done"])?;
    let listing = super::merchants::visible(&state, &viewer.caller).await?;
    let filter = NotificationFilter {
        contract_id: f
            .get("contract_id")
            .map(|c| ContractId::parse("contract_id", c))
            .transpose()?,
        event_type: None,
        status: f
            .get("status")
            .map(|s| {
                DeliveryStatus::parse(s)
                    .ok_or_else(|| ControlError::Param(format!("status {s:?} is not PENDING, DELIVERED or GAVE_UP")))
            })
            .transpose()?,
        limit: f.limit(DEFAULT_LIMIT)?,
    };
    let (scope, paused): (Vec<Mchid>, Option<bool>) = match f.get("mchid") {
        None => (listing.iter().map(|l| l.mchid.clone()).collect(), None),
        Some(raw) => {
            let m = control::merchant_in_path(&state, &viewer.caller, raw).await?;
            let paused = listing
                .iter()
                .find(|l| l.mchid == m.mchid)
                .map(|l| l.notifications_paused);
            (vec![m.mchid.clone()], paused)
        }
    };
    let mut found = Vec::new();
    for mchid in &scope {
        for n in state.store().notifications_of(mchid, &filter).await? {
            found.push((mchid.clone(), n));
        }
    }
    found.sort_by_key(|(_, n)| std::cmp::Reverse(n.created_at));
    found.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
    let mut rows = Vec::with_capacity(found.len());
    for (mchid, n) in found {
        let record = match state.store().notification(&n.id).await? {
            Some((_, full)) => full,
            None => n,
        };
        rows.push(NotificationRow {
            mchid: mchid.to_string(),
            record,
        });
    }
    let view = NotificationFilterView {
        mchid: f.get("mchid").map(String::from),
        contract_id: f.get("contract_id").map(String::from),
        status: f.get("status").map(String::from),
        limit: filter.limit,
        merchants: listing.iter().map(|l| l.mchid.to_string()).collect(),
        paused,
    };
    Ok(ok(dashboard::notification_list(viewer.who(), &view, &rows, f.done()?)))
}

/// `GET /dashboard/notifications/{id}`
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Seg(id): Seg,
    RawQuery(q): RawQuery,
) -> Result<Response, DashError> {
    let f = Fields::query(q.as_deref())?;
    f.only(&["done"])?;
    let (mchid, n) = control::notifications::visible(&state, &viewer.caller, &id).await?;
    let paused = super::merchants::visible(&state, &viewer.caller)
        .await?
        .iter()
        .any(|l| l.mchid == mchid && l.notifications_paused);
    Ok(ok(dashboard::notification_detail(
        viewer.who(),
        mchid.as_str(),
        &n,
        paused,
        f.done()?,
    )))
}

/// `POST /dashboard/notifications/{id}/resend`, then back to where the button was.
pub async fn resend(
    State(state): State<AppState>,
    viewer: Viewer,
    _: SameOrigin,
    Seg(id): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&["back"])?;
    let back = f.back()?;
    control::notifications::resend_now(&state, &viewer.caller, &id).await?;
    let (_, n) = control::notifications::visible(&state, &viewer.caller, &id).await?;
    let done = Done::Resent.as_str();
    Ok(match back {
        Back::Own => see_other(&format!("/dashboard/notifications/{}?done={done}", n.id)),
        Back::Notifications => see_other(&format!("/dashboard/notifications?done={done}")),
        Back::Contract => see_other(&format!("/dashboard/contracts/{}?done={done}", n.contract_id)),
    })
}
