//! Contract pages and the user-side actions: the filtered list, one contract with its history
//! and notifications, and agree / decline / expire / terminate through the same use-cases as
//! the control API (`control::sessions::act_on_session`, `control::contracts::terminate_as`).

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::access::SameOrigin;
use super::input::{Fields, Form, Seg};
use super::{ok, see_other, DashError, Viewer};
use crate::dashboard::{self, ContractDetailView, ContractFilterView, ContractRow, Done};
use crate::domain::contract::{Contract, ContractState, Event, UserAction};
use crate::domain::ids::{Mchid, PlanId};
use crate::domain::values::{OpenId, OutContractCode, TerminationNote};
use crate::http::control::{self, ControlError, MAX_LIMIT};
use crate::http::AppState;
use crate::store::{ContractFilter, NotificationFilter, NotificationRecord};

/// How many contracts a list shows unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 50;

/// The contracts of `mchids` matching `filter`, newest first, at most `filter.limit`, each as
/// observed at its merchant's time.
pub(super) async fn across(
    state: &AppState,
    mchids: &[Mchid],
    filter: &ContractFilter,
) -> Result<Vec<ContractRow>, DashError> {
    let real = state.clock().now();
    let mut all = Vec::new();
    for mchid in mchids {
        let Some(m) = state.directory().merchant(mchid.as_str()).await? else {
            continue;
        };
        let now = m.now(real);
        for c in state.store().contracts(mchid, filter).await? {
            all.push(c.observed(now));
        }
    }
    // Stable: within a merchant the store's newest-first order decides ties.
    all.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    all.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));
    Ok(all.into_iter().map(|contract| ContractRow { contract }).collect())
}

/// `GET /dashboard/contracts?mchid=&plan_id=&state=&out_contract_code=&limit=`
pub async fn list(State(state): State<AppState>, viewer: Viewer, RawQuery(q): RawQuery) -> Result<Response, DashError> {
    let f = Fields::query(q.as_deref())?;
    f.only(&["mchid", "plan_id", "state", "out_contract_code", "limit"])?;
    let merchants: Vec<Mchid> = super::merchants::visible(&state, &viewer.caller)
        .await?
        .into_iter()
        .map(|m| m.mchid)
        .collect();
    let filter = ContractFilter {
        state: f
            .get("state")
            .map(|s| {
                ContractState::parse(s)
                    .ok_or_else(|| ControlError::Param(format!("state {s:?} is not a contract state")))
            })
            .transpose()?,
        plan_id: f
            .get("plan_id")
            .map(|p| {
                p.parse::<i64>()
                    .ok()
                    .and_then(|n| PlanId::new(n).ok())
                    .ok_or_else(|| ControlError::Param(format!("plan_id {p:?} is not a positive integer")))
            })
            .transpose()?,
        out_contract_code: f
            .get("out_contract_code")
            .map(|c| OutContractCode::parse("out_contract_code", c))
            .transpose()?,
        limit: f.limit(DEFAULT_LIMIT)?,
    };
    let scope = match f.get("mchid") {
        None => merchants.clone(),
        Some(raw) => {
            let m = control::merchant_in_path(&state, &viewer.caller, raw).await?;
            vec![m.mchid.clone()]
        }
    };
    let rows = across(&state, &scope, &filter).await?;
    let view = ContractFilterView {
        mchid: f.get("mchid").map(String::from),
        plan_id: f.get("plan_id").map(String::from),
        state: f.get("state").map(String::from),
        out_contract_code: f.get("out_contract_code").map(String::from),
        limit: filter.limit,
        merchants: merchants.iter().map(ToString::to_string).collect(),
    };
    Ok(ok(dashboard::contract_list(viewer.who(), &view, &rows)))
}

/// The contract's notifications with their delivery logs, newest first.
pub(super) async fn notifications_of(state: &AppState, c: &Contract) -> Result<Vec<NotificationRecord>, DashError> {
    let filter = NotificationFilter {
        contract_id: Some(c.contract_id.clone()),
        limit: MAX_LIMIT,
        ..NotificationFilter::default()
    };
    let mut out = Vec::new();
    for n in state.store().notifications_of(&c.mchid, &filter).await? {
        if let Some((_, full)) = state.store().notification(&n.id).await? {
            out.push(full);
        }
    }
    Ok(out)
}

/// `GET /dashboard/contracts/{contract_id}`
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Seg(id): Seg,
    RawQuery(q): RawQuery,
) -> Result<Response, DashError> {
    let f = Fields::query(q.as_deref())?;
    f.only(&["done"])?;
    let c = control::contracts::visible(&state, &viewer.caller, &id).await?;
    let merchant = state
        .directory()
        .fresh_merchant(&c.mchid)
        .await?
        .ok_or(ControlError::ContractNotFound)?;
    let now = merchant.now(state.clock().now());
    let c = c.observed(now);
    let plan = state.directory().plan(c.plan_id).await?;
    let history = state.store().transitions(&c.contract_id).await?;
    let notifications = notifications_of(&state, &c).await?;
    let view = ContractDetailView {
        contract: &c,
        merchant_name: &merchant.name,
        plan_name: plan.as_ref().map(|p| p.name.as_str()),
        now,
        history: &history,
        notifications: &notifications,
        done: f.done()?,
    };
    Ok(ok(dashboard::contract_detail(viewer.who(), &view)))
}

fn to_contract(c: &Contract, done: Done) -> Response {
    see_other(&format!(
        "/dashboard/contracts/{}?done={}",
        c.contract_id,
        done.as_str()
    ))
}

/// Acts on the contract's current signing session as the user, then back to its page.
async fn act(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    action: impl FnOnce(&Contract) -> Result<UserAction, ControlError>,
) -> Result<Response, DashError> {
    let c = control::contracts::visible(state, &viewer.caller, id).await?;
    let (change, _) =
        control::sessions::act_on_session(state, &viewer.caller, c.session.token.as_str(), action).await?;
    let done = match change.event {
        Event::UserAgreed => Done::Agreed,
        Event::SigningFailed(crate::domain::contract::SignFailure::Declined) => Done::Declined,
        Event::SigningFailed(_) => Done::SignFailed,
        _ => Done::Expired,
    };
    Ok(to_contract(&change.contract, done))
}

/// `POST /dashboard/contracts/{contract_id}/agree` with an optional `openid`.
pub async fn agree(
    State(state): State<AppState>,
    viewer: Viewer,
    _: SameOrigin,
    Seg(id): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&["openid"])?;
    let openid = f.get("openid").map(|o| OpenId::parse("openid", o)).transpose()?;
    act(&state, &viewer, &id, control::sessions::agreement(openid, None)).await
}

/// `POST /dashboard/contracts/{contract_id}/decline`
pub async fn decline(
    State(state): State<AppState>,
    viewer: Viewer,
    _: SameOrigin,
    Seg(id): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&[])?;
    act(&state, &viewer, &id, |_| Ok(UserAction::Decline)).await
}

/// `POST /dashboard/contracts/{contract_id}/expire`
pub async fn expire(
    State(state): State<AppState>,
    viewer: Viewer,
    _: SameOrigin,
    Seg(id): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&[])?;
    act(&state, &viewer, &id, |_| Ok(UserAction::Expire)).await
}

/// `POST /dashboard/contracts/{contract_id}/terminate` with `as` = USER | PLATFORM and an
/// optional `note`.
pub async fn terminate(
    State(state): State<AppState>,
    viewer: Viewer,
    _: SameOrigin,
    Seg(id): Seg,
    Form(f): Form,
) -> Result<Response, DashError> {
    f.only(&["as", "note"])?;
    let mode = control::contracts::termination_by(
        f.get("as")
            .ok_or_else(|| ControlError::Param("as: say who terminates, USER or PLATFORM".into()))?,
    )?;
    let note = f.get("note").map(|n| TerminationNote::parse("note", n)).transpose()?;
    let after = control::contracts::terminate_as(&state, &viewer.caller, &id, mode, note.as_ref()).await?;
    Ok(to_contract(&after, Done::Terminated))
}
