//! Merchant pages and their actions: the list, one merchant, its clock (advance, back to real
//! time), pausing and resuming its deliveries, and the reset behind a confirmation page.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::access::SameOrigin;
use super::input::{Back, Fields, Form, Seg};
use super::{ok, see_other, DashError};
use crate::dashboard::{self, Done, MerchantCard};
use crate::domain::merchant::Merchant;
use crate::http::control::{self, merchant_in_path, Caller, ControlError};
use crate::http::AppState;
use crate::store::MerchantListing;

/// The merchants the caller may see, by mchid.
pub(super) async fn visible(state: &AppState, caller: &Caller) -> Result<Vec<MerchantListing>, DashError> {
    Ok(state
        .store()
        .merchant_listing()
        .await?
        .into_iter()
        .filter(|m| caller.sees(&m.mchid))
        .collect())
}

async fn card(state: &AppState, listing: &MerchantListing, m: &Merchant) -> Result<MerchantCard, DashError> {
    let mut plans = Vec::new();
    for id in &listing.plan_ids {
        if let Some(p) = state.directory().plan(*id).await? {
            plans.push(p);
        }
    }
    let plans: Vec<_> = plans.iter().map(|p| p.as_ref()).collect();
    Ok(MerchantCard::new(
        listing,
        m,
        &plans,
        state.sources().describe(listing.origin),
        state.clock().now(),
    ))
}

/// The `{mchid}` the caller may see, with its listing and card.
async fn one(state: &AppState, caller: &Caller, raw: &str) -> Result<MerchantCard, DashError> {
    let m = merchant_in_path(state, caller, raw).await?;
    let listing = visible(state, caller)
        .await?
        .into_iter()
        .find(|l| l.mchid == m.mchid)
        .ok_or(ControlError::MerchantNotFound)?;
    card(state, &listing, &m).await
}

/// `GET /dashboard/merchants`
pub async fn list(
    State(state): State<AppState>,
    viewer: super::Viewer,
    RawQuery(q): RawQuery,
) -> Result<Response, DashError> {
    Fields::query(q.as_deref())?.only(&[])?;
    let mut cards = Vec::new();
    for l in visible(&state, &viewer.caller).await? {
        if let Some(m) = state.directory().fresh_merchant(&l.mchid).await? {
            cards.push(card(&state, &l, &m).await?);
        }
    }
    Ok(ok(dashboard::merchant_list(viewer.who(), &cards)))
}

/// `GET /dashboard/merchants/{mchid}`
pub async fn show(
    State(state): State<AppState>,
    viewer: super::Viewer,
    Seg(mchid): Seg,
    RawQuery(q): RawQuery,
) -> Result<Response, DashError> {
    let f = Fields::query(q.as_deref())?;
    f.only(&["done"])?;
    let c = one(&state, &viewer.caller, &mchid).await?;
    Ok(ok(dashboard::merchant_detail(viewer.who(), &c, f.done()?)))
}

/// `GET /dashboard/merchants/{mchid}/reset`: the confirmation step.
pub async fn confirm_reset(
    State(state): State<AppState>,
    viewer: super::Viewer,
    Seg(mchid): Seg,
) -> Result<Response, DashError> {
    let c = one(&state, &viewer.caller, &mchid).await?;
    Ok(ok(dashboard::reset_confirm(viewer.who(), &c)))
}

fn to_merchant(mchid: &str, done: Done) -> Response {
    see_other(&format!("/dashboard/merchants/{mchid}?done={}", done.as_str()))
}

/// `POST /dashboard/merchants/{mchid}/reset` with `confirm` = the mchid.
pub async fn reset(
    State(state): State<AppState>,
    viewer: super::Viewer,
    _: SameOrigin,
    Seg(mchid): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&["confirm"])?;
    let m = merchant_in_path(&state, &viewer.caller, &mchid).await?;
    if f.get("confirm") != Some(m.mchid.as_str()) {
        return Err(ControlError::Param(format!("confirm must repeat the merchant id {} to reset it", m.mchid)).into());
    }
    control::merchants::reset_merchant(&state, &viewer.caller, m.mchid.as_str()).await?;
    Ok(to_merchant(m.mchid.as_str(), Done::Reset))
}

/// `POST /dashboard/merchants/{mchid}/clock/advance` with `by` (e.g. `2h 30m`).
pub async fn advance_clock(
    State(state): State<AppState>,
    viewer: super::Viewer,
    _: SameOrigin,
    Seg(mchid): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&["by"])?;
    let by = f
        .get("by")
        .ok_or_else(|| ControlError::Param("by: say how far to move the clock, e.g. 2h 30m".into()))?;
    let step = control::clock::parse_step(by)?;
    let m = merchant_in_path(&state, &viewer.caller, &mchid).await?;
    let real = state.clock().now();
    control::clock::set_clock(&state, &m, Some(control::clock::advanced(&m, real, step))).await?;
    Ok(to_merchant(m.mchid.as_str(), Done::ClockAdvanced))
}

/// `POST /dashboard/merchants/{mchid}/clock/reset`: back to real time.
pub async fn reset_clock(
    State(state): State<AppState>,
    viewer: super::Viewer,
    _: SameOrigin,
    Seg(mchid): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&[])?;
    let m = merchant_in_path(&state, &viewer.caller, &mchid).await?;
    control::clock::set_clock(&state, &m, None).await?;
    Ok(to_merchant(m.mchid.as_str(), Done::ClockReset))
}

async fn set_paused(
    state: &AppState,
    viewer: &super::Viewer,
    mchid: &str,
    f: &Fields,
    paused: bool,
) -> Result<Response, DashError> {
    f.only(&["back"])?;
    let back = f.back()?;
    control::notifications::set_paused(state, &viewer.caller, mchid, paused).await?;
    let done = if paused { Done::Paused } else { Done::Resumed };
    Ok(match back {
        Back::Notifications => see_other(&format!(
            "/dashboard/notifications?mchid={mchid}&done={}",
            done.as_str()
        )),
        Back::Own | Back::Contract => to_merchant(mchid, done),
    })
}

/// `POST /dashboard/merchants/{mchid}/notifications/pause`
pub async fn pause(
    State(state): State<AppState>,
    viewer: super::Viewer,
    _: SameOrigin,
    Seg(mchid): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    set_paused(&state, &viewer, &mchid, &f, true).await
}

/// `POST /dashboard/merchants/{mchid}/notifications/resume`
pub async fn resume(
    State(state): State<AppState>,
    viewer: super::Viewer,
    _: SameOrigin,
    Seg(mchid): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    set_paused(&state, &viewer, &mchid, &f, false).await
}
